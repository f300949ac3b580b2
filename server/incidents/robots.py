"""Group robots that alert the leads: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书).

A message is stored first (`enqueue_incident`, in the detecting transaction) and sent after by
`RobotSender`, on its own thread with its own sessions: a slow or broken robot never holds up
detection, a scan or the sync. Each message is retried with backoff until it is sent or given
up; every robot keeps its last success and last error for the console. Signing and the
request bodies are pure functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote_plus

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.clock import Clock, clock_of_sessions
from server.incidents.robot_urls import UNREACHABLE, markdown_text, send_problem
from server.models import Station
from server.models.incidents import AlertSettings, Incident, Robot, RobotMessage

log = logging.getLogger(__name__)

KINDS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
# A robot's webhook URL is its credential: WeCom ?key=, DingTalk ?access_token= (and the request's
# sign=), Feishu /hook/<token>. httpx logs every request URL at INFO, so these never reach a log.
_WEBHOOK_SECRET = re.compile(r"(?<![\w-])(key|access_token|sign)=[^&\s\"'#]*|(/hook/)[^/?\s\"'#]+")
BACKOFF_S = (10, 30, 120, 600, 1800)  # after the 1st … 5th failure; the 6th gives up
CLAIM_FOR = timedelta(seconds=60)  # a claimed message is not picked again for this long


def redact(text: str) -> str:
    """A robot URL (or a text holding one) without its secrets."""
    return _WEBHOOK_SECRET.sub(lambda m: f"{m.group(1)}=***" if m.group(1) else f"{m.group(2)}***", text)


class RedactWebhooks(logging.Filter):
    """Redacts robot secrets in a record's message and URL arguments (attached to httpx's loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(str(a)) if type(a).__name__ == "URL" or isinstance(a, str) else a
                                for a in record.args)  # fmt: skip
        return True


def install_redaction(logger_names: tuple[str, ...] = ("httpx", "httpcore")) -> None:
    """Attach the filter once to each logger of the HTTP stack."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactWebhooks) for f in logger.filters):
            logger.addFilter(RedactWebhooks())


# Signing and bodies (pure).


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), before URL-encoding."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: dict


def request_for(kind: str, url: str, secret: str | None, title: str, lines: list[str], link: str,
                now: datetime) -> Outgoing:  # fmt: skip
    """The HTTP request a robot expects for one message."""
    if kind == "wecom":
        return Outgoing(url, {"msgtype": "markdown", "markdown": {"content": markdown(title, lines, link)}})
    if kind == "dingtalk":
        if secret:
            ts = int(now.timestamp() * 1000)
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={ts}&sign={quote_plus(dingtalk_sign(secret, ts))}"
        return Outgoing(
            url, {"msgtype": "markdown", "markdown": {"title": title, "text": markdown(title, lines, link)}}
        )
    if kind == "feishu":
        content = [[{"tag": "text", "text": line}] for line in lines]
        if link:
            content.append([{"tag": "a", "text": "在控制台打开事件", "href": link}])
        body: dict = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": title, "content": content}}},
        }
        if secret:
            ts = int(now.timestamp())
            body.update(timestamp=str(ts), sign=feishu_sign(secret, ts))
        return Outgoing(url, body)
    raise ValueError(f"unknown robot kind {kind!r}")


def markdown(title: str, lines: list[str], link: str) -> str:
    """The message as Markdown; the title and lines are text (they hold names from stations and
    Douyin), only the console link is a link."""
    text = f"### {markdown_text(title)}\n" + "\n".join(f"> {markdown_text(line)}" for line in lines)
    return text + (f"\n\n[在控制台打开事件]({link})" if link else "")


def accepted(kind: str, response: httpx.Response) -> str | None:
    """None when the robot took the message, else why not (each platform answers code 0 on success)."""
    if response.status_code >= 300:
        return f"HTTP {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}: 回复不是 JSON 对象"
    code = data.get("code", data.get("StatusCode")) if kind == "feishu" else data.get("errcode")
    if code == 0:
        return None
    message = data.get("msg") or data.get("errmsg") or data.get("StatusMessage") or ""
    return f"code {code}: {message}"[:120]  # the platform's own answer (only platform hosts are asked)


def incident_lines(incident: Incident, station_name: str | None) -> list[str]:
    """What the leads read in the group: the order, goods, value, tracking number. No buyer data."""
    goods = "、".join(f"{g['name'] or g['sku_order_id']} ×{g['num']}" for g in incident.goods) or "—"
    lines = [
        f"订单：{incident.order_id}",
        f"商品：{goods}",
        f"货值：¥{incident.goods_value / 100:.2f}",
        f"运单号：{incident.tracking_no or '未知'} {incident.company}".rstrip(),
    ]
    if incident.passed_at is not None:
        who = " ".join(x for x in (station_name, incident.packer) if x)
        lines.append(f"放行：{who or '—'}")
    if incident.race_window_s is not None:
        lines.append(f"放行与退款成功相差：{incident.race_window_s} 秒")
    return lines


# The outbox.


def enqueue_incident(session: Session, incident: Incident) -> list[RobotMessage]:
    """One message per enabled robot of the incident's warehouse (or of every warehouse)."""
    robots = session.scalars(
        select(Robot).where(
            Robot.enabled.is_(True),
            or_(Robot.warehouse_id.is_(None), Robot.warehouse_id == incident.warehouse_id),
        )
    ).all()
    if not robots:
        return []
    station = session.get(Station, incident.station_id) if incident.station_id else None
    lines = incident_lines(incident, station.name if station else None)
    title = f"【退款后已发货】订单 {incident.order_id}"
    messages = [
        RobotMessage(
            robot_id=r.id,
            incident_id=incident.id,
            title=title,
            lines=lines,
            link_path=f"/incidents/{incident.id}",
        )  # fmt: skip
        for r in robots
    ]
    session.add_all(messages)
    session.flush()
    return messages


def enqueue_test(session: Session, robot: Robot) -> RobotMessage:
    message = RobotMessage(
        robot_id=robot.id, title="【Shipgate】测试消息", lines=["机器人配置正常。"], link_path="/incidents"
    )
    session.add(message)
    session.flush()
    return message


def base_url(session: Session, fallback: str) -> str:
    row = session.get(AlertSettings, 1)
    return (row.public_base_url if row and row.public_base_url else fallback).rstrip("/")


class RobotSender:
    """Sends what is due in the outbox. `run_once()` for one pass (tests call it); `start()` runs
    passes on a named daemon thread every `interval` seconds until `stop()`."""

    def __init__(
        self,
        sessions: sessionmaker,
        *,
        fallback_base_url: str = "",
        extra_hosts: tuple[str, ...] = (),
        resolve: Callable[[str], list[str]] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        backoff: tuple[float, ...] = BACKOFF_S,
        clock: Clock | None = None,
        interval: float = 2.0,
        batch: int = 50,
    ):
        self.sessions = sessions
        self.fallback_base_url = fallback_base_url
        self.extra_hosts, self.resolve = extra_hosts, resolve
        self.backoff = backoff
        self.clock = clock or clock_of_sessions(sessions)
        self.interval = interval
        self.batch = batch
        install_redaction()
        self._http = httpx.Client(transport=transport, timeout=timeout, trust_env=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1

    def run_once(self) -> int:
        """Try every message due now; returns how many were tried."""
        now = self.clock.now()
        with self.sessions() as session:
            due = list(session.execute(
                select(RobotMessage.id, RobotMessage.next_attempt_at)
                .where(RobotMessage.status == "pending", RobotMessage.next_attempt_at <= now)
                .order_by(RobotMessage.next_attempt_at, RobotMessage.id)
                .limit(self.batch)
            ))  # fmt: skip
        tried = 0
        for message_id, due_at in due:
            if self._claim(message_id, due_at, now):
                self._send(message_id)
                tried += 1
        return tried

    def _claim(self, message_id: int, due_at: datetime, now: datetime) -> bool:
        """Take the message unless another sender did (it moved its next attempt)."""
        with self.sessions() as session:
            claimed = session.execute(
                update(RobotMessage)
                .where(
                    RobotMessage.id == message_id,
                    RobotMessage.status == "pending",
                    RobotMessage.next_attempt_at == due_at,
                )  # fmt: skip
                .values(next_attempt_at=now + CLAIM_FOR)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
        return claimed == 1

    def _send(self, message_id: int) -> None:
        with self.sessions() as session:
            message = session.get(RobotMessage, message_id)
            if message is None:  # its robot was deleted meanwhile
                return
            robot, now = message.robot, self.clock.now()
            if not robot.enabled:
                message.status, message.last_error = "given_up", "机器人已停用"
                session.commit()
                return
            link = base_url(session, self.fallback_base_url) + message.link_path if message.link_path else ""
            error = self._post(robot, message, link, now)
            message.attempts += 1
            if error is None:
                message.status, message.sent_at, message.last_error = "sent", now, None
                robot.last_ok_at = now
            else:
                message.last_error = robot.last_error = error[:500]
                robot.last_error_at = now
                if message.attempts >= self.max_attempts:
                    message.status = "given_up"
                    log.error("robot %s gave up on message %s: %s", robot.name, message.id, error)
                else:
                    message.next_attempt_at = now + timedelta(seconds=self.backoff[message.attempts - 1])
                    log.warning("robot %s message %s failed (%s), will retry", robot.name, message.id, error)
            session.commit()

    def _post(self, robot: Robot, message: RobotMessage, link: str, now: datetime) -> str | None:
        """None on success, else the error (never with the webhook's token in it, never what a
        host that is not the robot's platform answered)."""
        refused = send_problem(robot.kind, robot.webhook_url, self.extra_hosts, self.resolve)
        if refused is not None:
            return refused
        try:
            out = request_for(
                robot.kind, robot.webhook_url, robot.secret, message.title, list(message.lines), link, now
            )
            return accepted(robot.kind, self._http.post(out.url, json=out.body))
        except httpx.HTTPError as exc:
            log.info("robot %s unreachable: %s", robot.name, redact(type(exc).__name__))
            return UNREACHABLE
        except ValueError as exc:
            return redact(f"{type(exc).__name__}: {exc}".replace(robot.webhook_url, "<webhook>"))

    def start(self) -> RobotSender:
        self._thread = threading.Thread(target=self._loop, name="robot-sender", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.run_once()
            except Exception:  # the database may be away for a moment; try again next pass
                log.exception("robot sender pass failed")
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http.close()
