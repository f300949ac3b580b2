"""Detection through the gate's hook: a refund that succeeds after the parcel passed the gate or
shipped opens exactly one incident; ordinary returns, drills and blocked parcels open none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from factories import make_order, refund
from sqlalchemy import select

from server.incidents import detect
from server.incidents.timeline import timeline_for
from server.ingest import OrderRecord, upsert_order
from server.models import GateEntry, Operator, Scan, Shop, Warehouse
from server.models.incidents import Incident, IncidentEvent

SCANNED = "2026-11-26T09:00:00+08:00"
SCANNED_UNIX = int(datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC).timestamp())


def test_a_refund_after_the_pass_opens_one_incident_with_its_story(session, station_scan, incidents, clock):
    clock.set(datetime.fromisoformat(SCANNED))  # the server's time at the scan
    session.add(Operator(name="张三", badge="P001"))
    order = make_order(session, tracking_no="SF1234567890123")
    assert station_scan(order.order_id)["decision"] == "PASS"
    clock.advance(minutes=1)  # the refund is learned a minute later
    refund(session, order, aftersale_type=2, update_time=SCANNED_UNIX + 30)
    [incident] = incidents()
    assert (incident.order_id, incident.trigger, incident.state) == (
        order.order_id,
        "refund_after_pass",
        "open",
    )
    assert incident.race_window_s == -30  # the PASS came 30 s before the refund succeeded
    assert incident.tracking_no == "SF1234567890123" and incident.company == "顺丰速运"
    assert incident.station.name == "bench-1" and incident.packer == "P001"
    assert [g["name"] for g in incident.goods] == ["商品1"]
    assert incident.refund_amount == 8900 and incident.goods_value == 8900
    assert incident.warehouse_id == session.scalar(select(Warehouse.id).where(Warehouse.name == "main"))
    kinds = [m.kind for m in timeline_for(session, incident)]
    assert kinds == ["scan", "refund_succeeded", "detected"]
    scan_line = timeline_for(session, incident)[0].text
    assert "bench-1" in scan_line and "张三（P001）" in scan_line and "可发货" in scan_line


def test_the_refund_seen_twice_still_makes_one_incident(session, station_scan, incidents):
    order = make_order(session, tracking_no="SF1234567890124")
    station_scan(order.order_id)
    done = refund(session, order, update_time=SCANNED_UNIX + 10)
    refund(session, order, aftersale_id=done.aftersale_id, update_time=SCANNED_UNIX + 20)  # seen again, newer
    upsert_order(
        session, OrderRecord(**{**order.__dict__, "order_status": 4, "update_time": SCANNED_UNIX + 30})
    )
    session.commit()
    assert len(incidents()) == 1
    assert session.scalar(select(IncidentEvent.kind)) == "detected"


def test_shipped_on_douyin_without_a_scan_is_an_incident_of_the_shops_warehouse(session, incidents):
    order = make_order(session, order_status=3, tracking_no="YT1234567890123")
    upsert_order(
        session, OrderRecord(**{**order.__dict__, "ship_time": SCANNED_UNIX, "update_time": SCANNED_UNIX})
    )
    house = Warehouse(name="华东仓")
    session.add(house)
    shop = session.get(Shop, order.shop_id)
    shop.warehouses.append(house)
    session.commit()
    refund(session, order, aftersale_type=2, update_time=SCANNED_UNIX + 600)
    [incident] = incidents()
    assert incident.trigger == "refund_after_ship" and incident.warehouse_id == house.id
    assert incident.passed_at is None and incident.race_window_s is None
    assert incident.shipped_at == datetime.fromtimestamp(SCANNED_UNIX, UTC)


def test_an_ordinary_return_after_delivery_is_not_an_incident(session, station_scan, incidents):
    order = make_order(session, tracking_no="SF1234567890125")
    station_scan(order.order_id)
    upsert_order(session, OrderRecord(**{**order.__dict__, "order_status": 5, "ship_time": SCANNED_UNIX + 60,
                                         "update_time": SCANNED_UNIX + 86_400}))  # fmt: skip
    session.commit()
    refund(session, order, aftersale_type=0, update_time=SCANNED_UNIX + 5 * 86_400)  # 退货退款, asked later
    assert session.get(GateEntry, order.order_id).decision == "BLOCK"
    assert incidents() == []


def test_a_refund_the_gate_blocked_in_time_is_not_an_incident(session, station_scan, incidents):
    order = make_order(session)
    refund(session, order)
    assert station_scan(order.order_id)["decision"] == "BLOCK"
    make_order(session)  # an unrelated change through the gate
    assert incidents() == []


def test_a_drill_pass_does_not_count(session, station_scan, incidents):
    order = make_order(session)
    station_scan(order.order_id)
    session.execute(Scan.__table__.update().values(reason="drill"))
    session.commit()
    refund(session, order)
    assert incidents() == []


def test_an_offline_pass_uploaded_for_a_refunded_order(session, client, auth, incidents):
    order = make_order(session, tracking_no="SF1234567890126")
    refund(session, order, update_time=SCANNED_UNIX - 120)
    body = {"scans": [{"scan_id": str(uuid.uuid4()), "code": order.order_id, "operator": "P002",
                       "scanned_at": SCANNED, "mode": "bench", "station_decision": "PASS",
                       "station_reason": "clear", "station_gate_version": 1}]}  # fmt: skip
    answer = client.post("/api/v1/scans/batch", json=body, headers=auth).json["results"][0]
    assert (answer["decision"], answer["station_decision"]) == ("BLOCK", "PASS")
    [incident] = incidents()  # the batch API opened it at once
    scan = session.scalar(select(Scan).where(Scan.order_id == order.order_id))
    again = detect.open_for_offline_pass(session, order.order_id, scan.id)  # never a second one
    session.commit()
    assert again.id == incident.id and len(incidents()) == 1
    assert (incident.trigger, incident.packer, incident.race_window_s) == ("offline_pass", "P002", 120)


def test_detection_failing_never_breaks_the_gate(session, station_scan, incidents, monkeypatch):
    order = make_order(session)
    station_scan(order.order_id)

    def broken(*_args, **_kwargs):
        raise RuntimeError("detection bug")

    monkeypatch.setattr(detect, "build", broken)
    refund(session, order)
    assert session.get(GateEntry, order.order_id).decision == "BLOCK"
    assert incidents() == []


def test_a_race_lost_to_another_process_is_quietly_dropped(session, station_scan, incidents):
    order = make_order(session)
    station_scan(order.order_id)
    refund(session, order)
    [incident] = incidents()
    orders = detect.load_orders(session, [order.order_id])
    duplicate = detect.build(session, orders[order.order_id], None, "refund_after_ship", incident.detected_at)
    assert detect._insert(session, duplicate) is None  # the unique order_id refused it
    session.commit()  # and the transaction is still good
    assert session.scalar(select(Incident.id)) == incident.id
