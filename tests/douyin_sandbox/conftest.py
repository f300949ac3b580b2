"""Fixtures: a sandbox on a real loopback port, a client pointed at it, and a token keeper."""

from __future__ import annotations

import pytest
from polling import wait_until

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(app_key="7000000000000000042", app_secret="test-sandbox-secret", n_orders=60)


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Sandbox:
    return Sandbox(sandbox_config)


@pytest.fixture
def server(sandbox: Sandbox):
    with SandboxServer(sandbox=sandbox) as running:
        yield running


class Sleeps(list):
    """A fake sleep that records the delays it was asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(server: SandboxServer, sleeps: Sleeps):
    config = server.config
    with DouyinClient(server.url, config.app_key, config.app_secret, sleep=sleeps) as douyin:
        yield douyin


@pytest.fixture
def keeper(client: DouyinClient, sandbox: Sandbox) -> TokenKeeper:
    """A keeper whose clock is the sandbox's business clock (so clock advances age tokens)."""
    return TokenKeeper(client, SelfBuiltShop(sandbox.config.shop_id), clock=sandbox.shop.now)


@pytest.fixture
def now(sandbox: Sandbox) -> int:
    return sandbox.shop.now()


@pytest.fixture
def wait_for():
    """wait_for(predicate, timeout=5.0) -> bool: poll until true (tests/polling.py)."""
    return wait_until
