"""`make demo`: the whole product on embedded defaults, in one process.

It starts the Douyin sandbox (loopback), the server on SQLite with pull sync and push wired to the
sandbox, and one simulated bench — the real station program reading a pty "scanner", printing
to a capture printer and, as an inline gate, typing every PASS into a simulated packing PC (a pty
USB gadget) whose "ERP" prints a waybill for each code it receives — then plays a short scripted
shift, narrating each step, rendering every printed slip to a PNG, and leaves the console running
until Ctrl-C.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server import clock, db, secretbox
from server.app import create_app
from server.checkpoints import Checkpointer
from server.console.accounts import create_user
from server.incidents.robots import RobotSender
from server.models import GateEntry, Operator, Role, Shop, Warehouse
from server.settings import Settings
from server.stations import enrol
from server.sync.loop import SyncLoop

log = logging.getLogger(__name__)

PACKER_BADGE, LEAD_BADGE = "P001", "L001"


@dataclass
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    sandbox_port: int = 8090
    output: Path = Path("demo-output")
    exit_after_shift: bool = False
    sync_interval_s: float = 5.0
    say: Callable[[str], None] = print


@dataclass
class Shift:
    """What the scripted shift saw: (label, decision, reason) per scan, slips and incidents."""

    scans: list[tuple[str, str, str]] = field(default_factory=list)
    slips: list[Path] = field(default_factory=list)
    incidents: int = 0
    lead_password: str = ""
    waybills: list[str] = field(default_factory=list)  # codes the packing PC printed a waybill for


class Demo:
    def __init__(self, options: DemoOptions):
        self.o = options
        self.say = options.say
        self.shift = Shift()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # -- the parts ---------------------------------------------------------------------------

    def start(self) -> None:
        out = self.o.output
        shutil.rmtree(out, ignore_errors=True)
        (out / "slips").mkdir(parents=True)
        url = f"http://{self.o.host}:{self.o.port}"
        config = SandboxConfig(
            n_orders=30, push_url=f"{url}/webhooks/douyin", push_retry_delays=(0.1, 0.5, 2.0)
        )
        self.sandbox = SandboxServer(
            sandbox=Sandbox(config), host=self.o.host, port=self.o.sandbox_port
        ).start()
        self.shop = self.sandbox.sandbox.shop
        settings = Settings.build(
            {
                "instance_dir": str(out / "instance"),
                "douyin_gateway": self.sandbox.url,
                "host": self.o.host,
                "port": self.o.port,
            }
        )
        secretbox.install(settings.data_key)  # the seed below writes the shop's secret, sealed
        self.engine = db.make_engine(settings.resolved_database_url)
        db.upgrade(self.engine)
        self.checkpointer = Checkpointer(self.engine).start()  # as `serve` runs it
        self.clock = clock.SystemClock()
        self.sessions = clock.sessions(self.engine, self.clock)
        token = self._seed(config)
        self.app = create_app(settings, engine=self.engine, migrate=False, clock=self.clock)
        self._serve(self.app)
        self.robots = RobotSender(self.sessions, fallback_base_url=url).start()
        self.sync = SyncLoop(self.sessions, self.sandbox.url, owner="demo")
        self.sync.run_pass()
        self._background("sync", self._sync_forever)
        self._start_bench(url, token)
        self.say(f"控制台 console: {url}  (主管 lead: demo / {self.shift.lead_password})")
        self.say(f"抖店沙盒 Douyin sandbox: {self.sandbox.url}   打印小票 slips: {out / 'slips'}")

    def _seed(self, config: SandboxConfig) -> str:
        self.shift.lead_password = "shift-" + secrets.token_hex(4)
        with self.sessions() as session:
            shop = Shop(shop_id=config.shop_id, name=config.shop_name, app_key=config.app_key,
                        app_secret=config.app_secret)  # fmt: skip
            session.add(shop)
            _station, token = enrol(session, "打包台1", "main", actor="demo")
            warehouse = session.scalar(select(Warehouse).where(Warehouse.name == "main"))
            shop.warehouses.append(warehouse)
            session.add(Operator(name="小李", badge=PACKER_BADGE, warehouse_id=warehouse.id))
            session.add(Operator(name="王主管", badge=LEAD_BADGE, warehouse_id=warehouse.id, is_lead=True))
            create_user(session, "demo", self.shift.lead_password, Role.LEAD, None, actor="demo")
            session.commit()
        return token

    def _serve(self, app) -> None:
        from waitress.server import create_server

        self._http = create_server(app, host=self.o.host, port=self.o.port, threads=6, ident="shipgate")
        self._background("http", self._http.run)

    def _sync_forever(self) -> None:
        while not self._stop.wait(self.o.sync_interval_s):
            self.sync.run_pass()

    def _start_bench(self, url: str, token: str) -> None:
        from station.bench import build_bench
        from station.config import parse_config
        from station.printer import load_escpos
        from station.virtual import CapturePrinter, VirtualScanner
        from station.virtualpc import PackingPC, VirtualGadget

        out = self.o.output
        load_escpos(out / "escpos")
        self.scanner = VirtualScanner(out / "scanner")
        self.scanner.plug()
        self.printer = CapturePrinter()
        self.packing_pc = PackingPC(on_waybill=lambda got: self.shift.waybills.append(got.code))
        self.gadget = VirtualGadget(out / "hidg0", self.packing_pc)  # the PC sees a USB keyboard
        config = parse_config(
            {
                "server": {"url": url, "token": token, "heartbeat_s": 5},
                "scanner": {"device": str(self.scanner.path), "suffix": "CR"},
                "printer": {"kind": "network", "host": "127.0.0.1", "port": self.printer.port},
                "station": {"name": "打包台1", "data_dir": str(out / "station"), "sync_interval_s": 2},
                "display": {"enabled": False},
                "forward": {"kind": "hidg", "device": str(self.gadget.path)},  # [printer] on_pass: none
            }
        )
        self.bench = build_bench(config, with_display=False)
        self.bench.start()
        self._background("bench", lambda: self.bench.run(self._stop))
        deadline = time.monotonic() + 10
        while self.bench.scanner.state.value != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)

    def _background(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=f"demo-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.name in ("demo-bench", "demo-sync"):
                thread.join(timeout=10)
        if getattr(self, "bench", None) is not None:
            self.bench.stop()
        for part in ("printer", "scanner", "gadget"):
            if getattr(self, part, None) is not None:
                getattr(self, part).close()
        if getattr(self, "robots", None) is not None:
            self.robots.stop()
        if getattr(self, "_http", None) is not None:
            self._http.close()
        if getattr(self, "sandbox", None) is not None:
            self.sandbox.stop()
        if getattr(self, "checkpointer", None) is not None:
            self.checkpointer.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- the scripted shift ------------------------------------------------------------------

    def scan(self, code: str, label: str, *, expect_slip: bool = True):
        """Scan a code on the pty, wait for the bench's decision and its slip; narrate."""
        before = self.bench.last.scan_id if self.bench.last else None
        jobs, waybills = len(self.printer.jobs), len(self.shift.waybills)
        self.scanner.scan(code)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            last = self.bench.last
            if last is not None and last.scan_id != before:
                break
            time.sleep(0.01)
        outcome = self.bench.last
        line = f"  扫描 {code:<22} → {outcome.decision.value:<5} {outcome.reason:<18} {outcome.message}"
        self.say(f"{label}\n{line}")
        self.shift.scans.append((label, outcome.decision.value, outcome.reason))
        if outcome.decision.value == "PASS" and expect_slip:  # the inline gate: the PC prints the waybill
            if self.packing_pc.wait_for(waybills + 1, timeout=10):
                self.say(
                    f"  打单电脑收到 {self.shift.waybills[-1]} 并打印运单 the packing PC prints the waybill"
                )
            return outcome
        if expect_slip:
            self.say("  打单电脑什么也没收到 the packing PC got nothing: no waybill")
        if expect_slip and self.printer.wait_for_jobs(jobs + 1, timeout=10):
            from station.preview import save_png

            name = f"{len(self.shift.slips) + 1:02d}-{outcome.decision.value.lower()}-{outcome.reason}.png"
            path = save_png(self.printer.jobs[jobs].data, self.o.output / "slips" / name)
            self.shift.slips.append(path)
            self.say(f"  小票 slip → {path}")
        return outcome

    def wait_gate(
        self, order_id: str, decision: str, reason: str | None = None, timeout: float = 15.0
    ) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with self.sessions() as session:
                entry = session.get(GateEntry, order_id)
                if entry is not None and entry.decision == decision and reason in (None, entry.reason):
                    return time.monotonic() - started
            time.sleep(0.02)
        raise TimeoutError(f"order {order_id} never became {decision} {reason or ''}")

    def play(self) -> Shift:
        shop, say = self.shop, self.say
        normal = [shop.create_order(n_skus=1) for _ in range(3)]
        parcels = [shop.ship(o.order_id) for o in normal]
        refunded = shop.create_order(n_skus=1)
        refunded_parcel = shop.ship(refunded.order_id)
        pending = shop.create_order(n_skus=1)
        partial = shop.create_order(n_skus=2)
        late = shop.create_order(n_skus=1)  # not shipped on Douyin yet: the bench is about to pass it
        self.sync.run_pass()
        say("\n== 班次开始 shift starts ==")
        self.scanner.scan(f"SG-OP-{PACKER_BADGE}")
        time.sleep(0.3)
        say(f"打包员扫工牌签到 packer signs in: {self.bench.operator}")
        for parcel in parcels:
            self.scan(
                parcel.tracking_no, "正常订单 a normal order: typed into the packing PC, its waybill prints"
            )

        say("\n买家退款成功（抖店推送）a refund succeeds on Douyin and is pushed")
        after_sale = shop.apply_refund(refunded.order_id)
        shop.succeed_refund(after_sale.aftersale_id)
        seconds = self.wait_gate(refunded.order_id, "BLOCK")
        say(f"  拦截名单已更新 blocklist updated in {seconds * 1000:.0f} ms")
        blocked = self.scan(refunded_parcel.tracking_no, "已退款订单 the refunded order: red slip, long beep")

        shop.apply_refund(pending.order_id)
        self.wait_gate(pending.order_id, "HOLD")
        self.scan(pending.order_id, "\n退款申请中 a refund is pending: hold")

        shop.apply_refund(partial.order_id, sku_order_id=partial.skus[1].sku_order_id)
        refund = [a for a in shop.aftersales.values() if a.order_id == partial.order_id][-1]
        shop.succeed_refund(refund.aftersale_id)
        self.wait_gate(partial.order_id, "HOLD", "partial_refund")  # not the refund_pending before it
        self.scan(partial.order_id, "\n部分退款 one of two items refunded: hold, take it out")
        self.scan("hello-world!", "\n无法识别 garbage on the scanner: hold")

        self.scan(late.order_id, "\n放行后退款 the parcel passes ...")
        after_sale = shop.apply_refund(late.order_id)
        shop.succeed_refund(after_sale.aftersale_id)
        self.wait_gate(late.order_id, "BLOCK")
        self.shift.incidents = self._wait_incident(late.order_id)
        say(f"  ... then its refund succeeds: 退款后已发货 incident opened ({self.shift.incidents})")

        say("\n主管在工位清除异常 the lead clears the blocked scan at the bench")
        self.scanner.scan(f"SG-OP-{LEAD_BADGE}")
        time.sleep(0.3)
        self.scan(f"SG-EX-{blocked.scan_id}", "  扫异常单二维码 the slip's QR", expect_slip=False)
        self.scan("SG-RS-moved_to_refund_shelf", "  扫处理方式 放入退款区", expect_slip=False)
        got = self.shift.waybills
        say(
            f"\n打单电脑共打印 {len(got)} 张运单 the packing PC printed {len(got)} waybills: {', '.join(got)}"
        )
        never = refunded_parcel.tracking_no not in got and refunded.order_id not in got
        say(f"  已退款订单的条码{'从未' if never else '竟然'}到达打单电脑 the refunded order's code "
            f"{'never arrived' if never else 'ARRIVED'}")  # fmt: skip
        say("== 班次结束 shift ends ==\n")
        return self.shift

    def _wait_incident(self, order_id: str, timeout: float = 10.0) -> int:
        try:
            from server.models.incidents import Incident
        except ImportError:
            return 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.sessions() as session:
                found = session.scalars(select(Incident).where(Incident.order_id == order_id)).all()
                if found:
                    return len(found)
            time.sleep(0.05)
        return 0


def run(options: DemoOptions) -> Shift:
    demo = Demo(options)
    try:
        demo.start()
        shift = demo.play()
        if options.exit_after_shift:
            return shift
        options.say(
            f"控制台仍在运行 the console keeps running at http://{options.host}:{options.port} — Ctrl-C to stop"
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        options.say("\n正在停止 stopping …")
        return demo.shift
    finally:
        demo.stop()
