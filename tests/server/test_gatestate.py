"""The gate's hooks: collaborators run after every recompute, whose failures are logged and
counted, never swallowed and never breaking the recompute."""

from __future__ import annotations

from factories import make_order, refund
from prometheus_client import REGISTRY

from server import gatestate
from server.models import GateEntry


def failures(hook: str) -> float:
    return REGISTRY.get_sample_value("shipgate_gate_hook_failures_total", {"hook": hook}) or 0.0


def test_a_failing_hook_is_logged_and_counted_and_the_recompute_stands(session, caplog, client, monkeypatch):
    order = make_order(session)
    seen: list[list[str]] = []

    def boom(_session, _changes, _views):
        raise RuntimeError("detection broke")

    def after(_session, changes, _views):
        seen.append([c.order.order_id for c in changes])

    monkeypatch.setattr(gatestate, "HOOKS", gatestate.GateHooks(boom=boom, after=after))
    before = failures("boom")
    with caplog.at_level("ERROR", logger="server.gatestate"):
        refund(session, order)  # through server.ingest, as a sync or a push would
    assert session.get(GateEntry, order.order_id).decision == "BLOCK"  # the recompute stands
    assert failures("boom") == before + 1 and "gate hook boom failed" in caplog.text
    assert seen == [[order.order_id]]  # the next hook still ran, with the change
    assert 'shipgate_gate_hook_failures_total{hook="boom"}' in client.get("/metrics").get_data(as_text=True)


def test_incident_detection_is_the_installed_hook(session):
    from server.incidents import detect

    calls = []
    hooks = gatestate.GateHooks()
    detect.install(hooks)
    hooks.install("spy", lambda _s, changes, views: calls.append(len(views)))
    order = make_order(session)
    gatestate.recompute_many(session, [order.order_id], hooks=hooks)
    assert calls == [1]
