"""The station API: decisions, idempotency, batch replay, the replica feed, heartbeats, bad input."""

import uuid

import httpx
import pytest
from factories import make_order, refund
from sqlalchemy import func, select

from server.gatestate import recompute_many
from server.models import AuditLog, Scan, ScanException, SkuOrder, Station
from shipgate.wire import Decision, ScanAnswer

NOW = "2026-11-26T09:00:00+08:00"


def scan(client, auth, code, **extra):
    body = {"scan_id": extra.pop("scan_id", str(uuid.uuid4())), "code": code, "scanned_at": NOW, **extra}
    return client.post("/api/v1/scans", json=body, headers=auth)


def count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_pass_for_a_clear_order_with_its_waybill(client, auth, session):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    answer = scan(client, auth, order.order_id, operator="A0001").json
    assert answer["decision"] == "PASS" and answer["reason"] == "clear" and answer["message"] == "可发货"
    assert answer["order_id"] == order.order_id
    assert answer["waybill"]["tracking_no"] == "SF1234567890123"
    assert [i["sku_order_id"] for i in answer["waybill"]["items"]] == [s.sku_order_id for s in order.skus]
    assert answer["exception_id"] is None
    assert count(session, ScanException) == 0


def test_a_pass_answer_keeps_to_the_contract_whatever_douyin_named_the_goods(client, auth, session):
    """The waybill in a PASS is the gate entry's label as stored: label_of fits Douyin's texts to
    the wire's limits (no NUL, 256 characters a name, 64 a merchant code) so the station accepts it."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL itself refuses NUL and over-long names; SQLite stores what it is given")
    order = make_order(session, tracking_no="SF1234567890124", commit=False)
    sku = session.get(SkuOrder, order.skus[0].sku_order_id)
    sku.product_name, sku.code = "长" * 250 + "\x00" + "名" * 40, "C" * 64
    session.commit()
    recompute_many(session, [order.order_id])
    session.commit()
    body = scan(client, auth, order.order_id).json
    answer = ScanAnswer.from_json(body)  # the station's parser
    assert answer.decision is Decision.PASS
    [item] = answer.waybill.items
    assert item.name == "长" * 250 + "名" * 6 and item.code == "C" * 64


@pytest.mark.parametrize("by", ["order_id", "sku_order_id", "tracking_no"])
def test_refunded_order_blocks_by_any_of_its_codes(client, auth, session, by):
    order = make_order(session, tracking_no="JT0001234567890")
    refund(session, order)
    code = {
        "order_id": order.order_id,
        "sku_order_id": order.skus[0].sku_order_id,
        "tracking_no": "JT0001234567890",
    }[by]
    answer = scan(client, auth, code).json
    assert (answer["decision"], answer["reason"]) == ("BLOCK", "refunded")
    assert answer["message"] == "已退款 请勿发货"
    assert answer["order_id"] == order.order_id
    assert answer["exception_id"] is not None
    assert count(session, ScanException, ScanException.status == "open") == 1


def test_recycled_tracking_number_decides_on_its_current_order(client, auth, session):
    from server.ingest import assign_tracking

    old = make_order(session, tracking_no="SF1234567890123")
    refund(session, old)
    new = make_order(session)
    assign_tracking(session, new.order_id, "SF1234567890123")
    session.commit()
    answer = scan(client, auth, "SF1234567890123").json
    assert (answer["decision"], answer["order_id"]) == ("PASS", new.order_id)


def test_partial_refund_holds_and_names_the_sku(client, auth, session):
    order = make_order(session, skus=3)
    refund(session, order, sku_order_id=order.skus[1].sku_order_id)
    answer = scan(client, auth, order.order_id).json
    assert (answer["decision"], answer["reason"]) == ("HOLD", "partial_refund")
    assert answer["sku_order_ids_out"] == [order.skus[1].sku_order_id]
    assert order.skus[1].sku_order_id in answer["message"]


def test_every_answer_follows_the_typed_contract_the_station_parses(client, auth, session):
    from shipgate.wire import BatchAnswer, GateFeed, HeartbeatReply, ScanAnswer

    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    refund(session, order, sku_order_id=order.skus[0].sku_order_id)
    answer = ScanAnswer.from_json(scan(client, auth, order.order_id).json)
    assert answer.sku_order_ids_out == (order.skus[0].sku_order_id,) and answer.exception_id is not None
    offline = {"scan_id": "off-1", "code": "junk!", "scanned_at": NOW, "station_decision": "HOLD",
               "station_reason": "disk_full"}  # fmt: skip
    batch = client.post("/api/v1/scans/batch", json={"scans": [offline]}, headers=auth).json
    assert BatchAnswer.from_json(batch).results[0].station_reason == "disk_full"
    assert GateFeed.from_json(client.get("/api/v1/gate?since=0", headers=auth).json).entries
    assert HeartbeatReply.from_json(client.post("/api/v1/heartbeat", json={}, headers=auth).json).ok


def test_unknown_order_and_garbage_hold_never_pass(client, auth, session):
    assert scan(client, auth, "4899999999999999999").json["reason"] == "unknown_order"
    garbage = scan(client, auth, "hello\x07world").json
    assert (garbage["decision"], garbage["reason"]) == ("HOLD", "invalid_code")
    assert count(session, ScanException) == 2


def test_same_scan_id_returns_the_stored_answer_and_writes_nothing(client, auth, session):
    order = make_order(session)
    first = scan(client, auth, order.order_id, scan_id="s-1").json
    refund(session, order)  # the world changes, the stored answer does not
    second = scan(client, auth, order.order_id, scan_id="s-1").json
    assert first == second and first["decision"] == "PASS"
    assert count(session, Scan) == 1


def test_batch_stores_each_scan_once_with_both_decisions(client, auth, session):
    order = make_order(session)
    refund(session, order)
    scans = [
        {
            "scan_id": f"off-{i}",
            "code": order.order_id,
            "scanned_at": NOW,
            "station_decision": "PASS",
            "station_reason": "clear",
            "station_gate_version": 0,
        }
        for i in range(3)
    ]
    body = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=auth).json
    assert [r["decision"] for r in body["results"]] == ["BLOCK"] * 3
    assert {r["station_decision"] for r in body["results"]} == {"PASS"}
    assert not any(r["duplicate"] for r in body["results"])
    replay = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=auth).json
    assert all(r["duplicate"] for r in replay["results"])
    assert count(session, Scan) == 3
    assert count(session, Scan, Scan.source == "offline") == 3
    assert count(session, ScanException) == 3  # an offline PASS of a refunded order needs a lead


def test_gate_feed_snapshot_then_deltas(client, auth, session):
    orders = [make_order(session) for _ in range(5)]
    page = client.get("/api/v1/gate?since=0&limit=3", headers=auth).json
    assert page["more"] is True and len(page["entries"]) == 3
    rest = client.get(f"/api/v1/gate?since={page['next']}&limit=3", headers=auth).json
    assert rest["more"] is False
    got = [e["order_id"] for e in page["entries"] + rest["entries"]]
    assert got == [o.order_id for o in orders]
    refund(session, orders[2])
    delta = client.get(f"/api/v1/gate?since={rest['next']}", headers=auth).json
    assert [(e["order_id"], e["decision"]) for e in delta["entries"]] == [(orders[2].order_id, "BLOCK")]
    assert delta["next"] == delta["version"] > rest["next"]


def test_heartbeat_is_stored(client, auth, session):
    body = {
        "software_version": "0.1.0",
        "replica_version": 7,
        "scanner": "connected",
        "printer": "offline",
        "queue_depth": 2,
        "rss_bytes": 30_000_000,
        "mode": "bench",
    }
    answer = client.post("/api/v1/heartbeat", json=body, headers=auth).json
    assert answer["ok"] is True
    station = session.scalar(select(Station))
    session.refresh(station)
    assert station.health["printer"] == "offline" and station.last_seen_at is not None


BAD_BODIES = [
    (b"{not json", "malformed_json", 400),
    (b"[1,2]", "malformed_json", 400),
    (b'{"code": "1", "scanned_at": "' + NOW.encode() + b'"}', "missing_field", 400),
    (b'{"scan_id": "a", "code": "1", "scanned_at": "x", "color": 1}', "unknown_field", 400),
    (b'{"scan_id": 5, "code": "1", "scanned_at": "' + NOW.encode() + b'"}', "invalid_field", 400),
    (b'{"scan_id": "a b", "code": "1", "scanned_at": "' + NOW.encode() + b'"}', "invalid_field", 400),
    (b'{"scan_id": "a", "code": ["1"], "scanned_at": "' + NOW.encode() + b'"}', "invalid_field", 400),
    (b'{"scan_id": "a", "code": "1", "scanned_at": "yesterday"}', "invalid_field", 400),
    (b'{"scan_id": "a", "code": "1", "scanned_at": "2026-11-26T09:00:00"}', "invalid_field", 400),
    (
        b'{"scan_id": "a", "code": "1", "scanned_at": "' + NOW.encode() + b'", "mode": "x"}',
        "invalid_field",
        400,
    ),
    (
        b'{"scan_id": "a", "code": "' + b"9" * 600 + b'", "scanned_at": "' + NOW.encode() + b'"}',
        "invalid_field",
        400,
    ),
]


@pytest.mark.parametrize("raw, error, status", BAD_BODIES)
def test_bad_scan_bodies_are_refused_and_change_nothing(client, auth, session, raw, error, status):
    response = client.post("/api/v1/scans", data=raw, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json["error"] == error and response.json["message"]
    assert count(session, Scan) == 0


def test_wrong_content_type_and_oversized_bodies(client, auth, session):
    response = client.post("/api/v1/scans", data="x", headers={**auth, "Content-Type": "text/plain"})
    assert (response.status_code, response.json["error"]) == (415, "unsupported_media_type")
    huge = b'{"scans": [' + b'"x",' * 400_000 + b'"x"]}'
    response = client.post(
        "/api/v1/scans/batch", data=huge, headers={**auth, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json["error"]) == (413, "body_too_large")


def test_a_bad_item_in_a_batch_rejects_the_whole_batch(client, auth, session):
    good = {
        "scan_id": "ok-1",
        "code": "1",
        "scanned_at": NOW,
        "station_decision": "HOLD",
        "station_reason": "invalid_code",
    }
    bad = {**good, "scan_id": "ok-2", "station_decision": "MAYBE"}
    response = client.post("/api/v1/scans/batch", json={"scans": [good, bad]}, headers=auth)
    assert response.status_code == 400 and "scans[1]" in response.json["message"]
    assert count(session, Scan) == 0
    too_many = client.post("/api/v1/scans/batch", json={"scans": [good] * 501}, headers=auth)
    assert too_many.json["error"] == "batch_too_large"


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "limit=0", "limit=99999", "since=1e3"])
def test_bad_feed_arguments(client, auth, query):
    response = client.get(f"/api/v1/gate?{query}", headers=auth)
    assert response.status_code == 400 and response.json["error"] == "invalid_field"


def test_tokens_missing_wrong_or_revoked(client, auth, session):
    assert client.post("/api/v1/scans", json={}).json["error"] == "missing_token"
    wrong = client.post("/api/v1/scans", json={}, headers={"Authorization": "Bearer sgst_nope"})
    assert (wrong.status_code, wrong.json["error"]) == (401, "invalid_token")
    from server.stations import revoke

    revoke(session, session.scalar(select(Station)), actor="test")
    session.commit()
    assert client.get("/api/v1/gate", headers=auth).status_code == 401
    assert count(session, AuditLog, AuditLog.action == "station.revoke") == 1


def test_token_is_stored_hashed(session, station_token):
    station = session.scalar(select(Station))
    assert station_token not in station.token_hash and len(station.token_hash) == 64


def test_unknown_routes_and_methods_are_json(client, auth):
    assert client.get("/api/v1/nope", headers=auth).json["error"] == "not_found"
    assert client.get("/api/v1/scans", headers=auth).json["error"] == "method_not_allowed"


def test_over_real_http_on_waitress(live_server, station_token, session):
    order = make_order(session)
    refund(session, order)
    headers = {"Authorization": f"Bearer {station_token}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=5) as http:
        answer = http.post(
            "/api/v1/scans", json={"scan_id": "live-1", "code": order.order_id, "scanned_at": NOW}
        )
        assert answer.status_code == 200 and answer.json()["decision"] == "BLOCK"
        assert http.get("/healthz").json() == {"status": "ok"}
        metrics = http.get("/metrics").text
        assert 'shipgate_scans_total{decision="BLOCK",reason="refunded",source="online"}' in metrics
        bad = http.post("/api/v1/scans", content=b"{", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"] == "malformed_json"


def test_a_lead_clears_a_blocked_scan_at_the_bench(client, auth, session):
    from server.models import Operator

    session.add(Operator(name="王主管", badge="L001", is_lead=True))
    session.add(Operator(name="小李", badge="P001"))
    session.commit()
    order = make_order(session)
    refund(session, order)
    blocked = scan(client, auth, order.order_id, operator="P001").json
    assert blocked["decision"] == "BLOCK"
    packer_try = scan(client, auth, f"SG-EX-{blocked['scan_id']}", operator="P001").json
    assert (packer_try["decision"], packer_try["reason"]) == ("HOLD", "not_lead")
    taken = scan(client, auth, f"SG-EX-{blocked['scan_id']}", operator="L001").json
    assert taken["reason"] == "awaiting_resolution"
    cleared = scan(client, auth, "SG-RS-moved_to_refund_shelf", operator="L001").json
    assert (cleared["decision"], cleared["reason"]) == ("PASS", "exception_cleared")
    assert "放入退款区" in cleared["message"]
    session.expire_all()
    exception = session.scalar(select(ScanException))
    assert (exception.status, exception.resolution, exception.cleared_by) == (
        "cleared",
        "moved_to_refund_shelf",
        "operator:L001",
    )
    # the lead's codes are journaled like every scan, and open no exception of their own
    assert count(session, Scan) == 4 and count(session, ScanException) == 1


def test_a_lead_code_sent_again_answers_as_before_and_does_nothing_again(client, auth, session):
    """The duplicate check comes before a lead code's side effects: a badge scan signs in and
    drops another lead's half-done clearing; the station resending that badge scan later must not."""
    from server.models import BenchPending, Operator

    session.add_all(
        [Operator(name="王主管", badge="L001", is_lead=True), Operator(name="小李", badge="P001")]
    )
    session.commit()
    order = make_order(session)
    refund(session, order)
    signed_in = scan(client, auth, "SG-OP-P001", scan_id="badge-1").json
    assert signed_in["reason"] == "signed_in"
    blocked = scan(client, auth, order.order_id, operator="P001").json
    taken = scan(client, auth, f"SG-EX-{blocked['scan_id']}", operator="L001").json
    assert taken["reason"] == "awaiting_resolution" and count(session, BenchPending) == 1
    again = scan(client, auth, "SG-OP-P001", scan_id="badge-1").json
    assert (again["decision"], again["reason"], again["scan_id"]) == ("PASS", "signed_in", "badge-1")
    assert count(session, BenchPending) == 1  # the lead's clearing still stands
    cleared = scan(client, auth, "SG-RS-misscan", operator="L001").json
    assert cleared["reason"] == "exception_cleared"
    assert count(session, Scan) == 4


def test_an_admin_release_in_force_lets_a_blocked_order_pass(client, auth, session):
    from server.gatestate import current_version
    from server.ingest import assign_tracking
    from server.models import GateOverride

    order = make_order(session)
    refund(session, order)
    session.add(
        GateOverride(
            order_id=order.order_id,
            gate_version=current_version(session),
            decision="BLOCK",
            reason="refunded",
            actor="user:admin",
            note="买家撤回退款，平台已确认",
        )
    )
    session.commit()
    answer = scan(client, auth, order.order_id).json
    assert (answer["decision"], answer["reason"]) == ("PASS", "override")
    assign_tracking(session, order.order_id, "SF1234567890777")  # Douyin changes the order again
    session.commit()
    assert scan(client, auth, order.order_id).json["decision"] == "BLOCK"  # the release lapsed


def test_state_columns_read_back_as_enums_and_refuse_other_values(client, auth, session):
    import pytest as _pytest
    from sqlalchemy.exc import StatementError

    from server.models import ExceptionStatus, GateEntry
    from shipgate.wire import Decision, LocalReason, Reason, ScanMode, Source

    order = make_order(session)
    refund(session, order)
    scan(client, auth, order.order_id, scan_id="e-1")
    offline = {"scan_id": "e-2", "code": "junk!", "scanned_at": NOW, "station_decision": "HOLD",
               "station_reason": "journal_error"}  # fmt: skip
    client.post("/api/v1/scans/batch", json={"scans": [offline]}, headers=auth)
    session.expire_all()
    online = session.scalar(select(Scan).where(Scan.scan_id == "e-1"))
    assert (online.decision, online.reason, online.mode, online.source) == (
        Decision.BLOCK, Reason.REFUNDED, ScanMode.BENCH, Source.ONLINE,
    )  # fmt: skip
    assert all(
        isinstance(v, type(e)) for v, e in [(online.decision, Decision.BLOCK), (online.mode, ScanMode.BENCH)]
    )
    uploaded = session.scalar(select(Scan).where(Scan.scan_id == "e-2"))
    assert uploaded.station_reason is LocalReason.JOURNAL_ERROR and uploaded.source is Source.OFFLINE
    assert (
        session.scalar(select(ScanException).where(ScanException.scan_id == "e-1")).status
        is ExceptionStatus.OPEN
    )
    assert session.get(GateEntry, order.order_id).decision is Decision.BLOCK
    online.decision = "MAYBE"
    with _pytest.raises(StatementError):
        session.commit()
    session.rollback()
