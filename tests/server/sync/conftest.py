"""Fixtures: the Douyin sandbox on loopback, the shop registered against it, a pull worker."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper
from server.models import Shop
from server.sandbox import Sandbox, SandboxConfig, SandboxServer
from server.sync.shops import load_tokens, save_tokens
from server.sync.worker import ShopSync


@pytest.fixture
def push_url() -> str | None:
    """Where the sandbox pushes; a test module that wants pushes overrides this."""
    return None


@pytest.fixture
def sandbox_config(push_url) -> SandboxConfig:
    return SandboxConfig(
        app_key="7000000000000000042",
        app_secret="test-sandbox-secret",
        shop_id="80000042",
        n_orders=40,
        push_url=push_url,
        push_retry_delays=(0.05, 0.1, 0.2, 0.5),
    )


@pytest.fixture
def sandbox(sandbox_config):
    sandbox = Sandbox(sandbox_config)
    with SandboxServer(sandbox=sandbox) as running:  # also starts the push sender
        yield running


@pytest.fixture
def sessions(engine):
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def shop(session, sandbox):
    config = sandbox.config
    row = Shop(shop_id=config.shop_id, name="", app_key=config.app_key, app_secret=config.app_secret)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def make_worker(sessions, sandbox, shop):
    """A pull worker on the sandbox's business clock; retries do not really sleep."""
    clients = []

    def make(owner: str = "test-worker", **options) -> ShopSync:
        client = DouyinClient(sandbox.url, shop.app_key, shop.app_secret, sleep=lambda _s: None)
        clients.append(client)
        keeper = TokenKeeper(
            client,
            SelfBuiltShop(shop.shop_id),
            load=lambda: load_tokens(sessions, shop.shop_id),
            save=lambda tokens: save_tokens(sessions, shop.shop_id, tokens),
            clock=sandbox.sandbox.shop.now,
        )
        return ShopSync(
            sessions, shop.shop_id, keeper.api, owner=owner, clock=sandbox.sandbox.shop.now, **options
        )

    yield make
    for client in clients:
        client.close()
