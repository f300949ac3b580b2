"""The bench against the real server: a pty scanner, waitress on loopback, a TCP printer."""

from __future__ import annotations

import httpx
from factories import make_order, refund
from liveserver import LiveServer
from polling import wait_until
from sqlalchemy import func, select
from station_testkit import in_order

from server.models import Scan, ScanException
from station.scanner import ScannerState
from station.slips import CHINESE_ON, RED_OFF, RED_ON

CUT = b"\x1dV"
QR = b"\x1d(k"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def scans_on_server(session, **where):
    session.expire_all()
    query = select(func.count()).select_from(Scan)
    for name, value in where.items():
        query = query.where(getattr(Scan, name) == value)
    return session.scalar(query)


def ready(bench) -> bool:
    return wait_until(lambda: bench.scanner.state is ScannerState.CONNECTED)


def test_block_prints_the_red_slip_and_opens_an_exception(
    running_bench, virtual_scanner, capture_printer, session
):
    order = make_order(session, tracking_no="YT1234567890123")
    refund(session, order)
    bench = running_bench()
    assert ready(bench)
    virtual_scanner.write(b"YT12345")  # a code can arrive in pieces
    virtual_scanner.write(b"67890123\r")
    assert capture_printer.wait_for_jobs(1)
    [entry] = bench.journal.entries()
    assert in_order(
        capture_printer.output(),
        CHINESE_ON,
        RED_ON,
        gb("已退款"),
        RED_OFF,
        order.order_id.encode(),
        QR,
        b"SG-EX-" + entry.scan_id.encode(),
        CUT,
    )
    assert (entry.decision, entry.source) == ("BLOCK", "online")
    session.expire_all()
    exception = session.scalar(select(ScanException))
    assert exception.scan_id == entry.scan_id and exception.order_id == order.order_id


def test_pass_prints_a_check_slip_with_the_goods_not_a_waybill(
    running_bench, virtual_scanner, capture_printer, session
):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    bench = running_bench()
    assert ready(bench)
    virtual_scanner.scan(order.order_id)
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    assert b"\x1dk" not in data and b"SF1234567890123" in data  # the number, but no barcode to scan
    assert gb("商品1") in data and gb("商品2") in data
    assert RED_ON not in data
    assert scans_on_server(session, decision="PASS") == 1


def test_partial_refund_holds_and_prints_which_item_to_take_out(
    running_bench, virtual_scanner, capture_printer, session
):
    order = make_order(session, skus=2)
    out = order.skus[1].sku_order_id
    refund(session, order, sku_order_id=out)
    bench = running_bench()
    assert ready(bench)
    virtual_scanner.scan(order.order_id)
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    assert in_order(data, gb("暂停发货"), out.encode(), CUT)
    assert RED_ON not in data


def test_garbage_on_the_line_holds_locally_and_still_reaches_the_journal(
    running_bench, virtual_scanner, capture_printer, session
):
    bench = running_bench()
    assert ready(bench)
    virtual_scanner.write(b"\x00\x07garbage!!\r")
    assert capture_printer.wait_for_jobs(1)
    assert gb("暂停发货") in capture_printer.output()
    assert wait_until(lambda: scans_on_server(session, reason="invalid_code") == 1)


def test_server_down_replica_decides_and_the_journal_uploads_exactly_once(
    app, bench_config, virtual_scanner, capture_printer, session, station_token
):
    from station.bench import build_bench

    server = LiveServer(app).start()
    refunded = make_order(session)
    refund(session, refunded)
    clear = make_order(session)
    config = bench_config()
    config = config.__class__(
        **{
            **config.__dict__,
            "server": config.server.__class__(**{**config.server.__dict__, "url": server.url}),
        }
    )
    bench = build_bench(config, with_display=False)
    bench.start()
    try:
        assert wait_until(lambda: bench.replica.version > 0)  # the replica is current
        server.stop()
        blocked = bench.handle(refunded.order_id)
        passed = bench.handle(clear.order_id)
        assert (blocked.decision.value, blocked.source.value) == ("BLOCK", "offline")
        assert (passed.decision.value, passed.source.value) == ("PASS", "offline")
        assert bench.journal.queue_depth() == 2
        server = LiveServer(app, port=server.port).start()  # the server comes back
        assert wait_until(lambda: bench.journal.queue_depth() == 0, timeout=10)
        assert scans_on_server(session, source="offline") == 2
        bench.uplink.upload_pending()  # nothing left to send twice
        assert scans_on_server(session) == 2
    finally:
        bench.stop()
        server.stop()


def test_heartbeats_reach_the_floor(running_bench, session, live_server, station_token):
    from server.models import Station

    running_bench()

    def seen():
        session.expire_all()
        station = session.scalar(select(Station))
        return station.last_seen_at is not None and station.health.get("scanner") == "connected"

    assert wait_until(seen, timeout=10)
    headers = {"Authorization": f"Bearer {station_token}"}
    assert httpx.get(live_server.url + "/api/v1/gate?since=0", headers=headers).status_code == 200


def test_a_drill_at_the_bench_prints_a_red_slip_marked_drill(
    running_bench, virtual_scanner, capture_printer, session
):
    from server import drills
    from server.models import DrillRun

    [code] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    bench = running_bench()
    assert ready(bench)
    virtual_scanner.scan(code)
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    assert in_order(data, CHINESE_ON, gb("演练"), RED_ON, gb("已退款"), RED_OFF, CUT)
    assert b"SG-EX-" not in data  # nothing for a lead to clear
    session.expire_all()
    assert session.scalar(select(DrillRun)).passed


def test_a_drill_offline_still_blocks_and_is_recorded_on_return(
    app, bench_config, virtual_scanner, capture_printer, session
):
    from server import drills
    from server.models import DrillRun
    from station.bench import build_bench

    [code] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    server = LiveServer(app).start()
    config = bench_config()
    config = config.__class__(
        **{
            **config.__dict__,
            "server": config.server.__class__(**{**config.server.__dict__, "url": server.url}),
        }
    )
    bench = build_bench(config, with_display=False)
    bench.start()
    try:
        assert wait_until(lambda: bench.link.online, timeout=5)
        server.stop()
        outcome = bench.handle(code)
        assert (outcome.decision.value, outcome.reason, outcome.source.value) == ("BLOCK", "drill", "offline")
        server = LiveServer(app, port=server.port).start()
        assert wait_until(lambda: bench.journal.queue_depth() == 0, timeout=10)
        session.expire_all()
        assert session.scalar(select(DrillRun)).passed
    finally:
        bench.stop()
        server.stop()


def test_handover_blocks_a_parcel_refunded_after_packing(
    running_bench, virtual_scanner, capture_printer, session
):
    order = make_order(session, tracking_no="SF1234567890555")
    bench = running_bench(mode="handover")
    assert ready(bench)
    virtual_scanner.scan("SF1234567890555")  # a PASS at handover prints nothing
    assert wait_until(lambda: scans_on_server(session, mode="handover", decision="PASS") == 1)
    refund(session, order)
    virtual_scanner.scan("SF1234567890555")
    assert capture_printer.wait_for_jobs(1)
    assert in_order(capture_printer.output(), RED_ON, gb("已退款"), gb("从交接中取出"), RED_OFF, QR, CUT)


def test_the_station_prints_the_handover_manifest(
    bench_config, capture_printer, session, live_server, tmp_path
):
    from server.stations import enrol
    from station.cli import main as station_main

    _gate, token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    make_order(session, tracking_no="SF1234567890601")
    body = {"scan_id": "h-1", "code": "SF1234567890601", "scanned_at": "2026-11-26T09:00:00+08:00",
            "mode": "handover"}  # fmt: skip
    httpx.post(live_server.url + "/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
    config = tmp_path / "station.toml"
    config.write_text(
        f'[server]\nurl = "{live_server.url}"\ntoken = "{token}"\n'
        f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {capture_printer.port}\n'
        f'[station]\nname = "交接口"\ndata_dir = "{tmp_path / "data"}"\n'
    )
    assert station_main(["manifest", "--config", str(config)]) == 0
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    assert in_order(
        data, gb("交接单"), gb("顺丰速运"), gb("共 1 件"), b"SF1234567890601", gb("快递员签字"), CUT
    )
