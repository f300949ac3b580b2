"""Liveness for load balancers and Prometheus metrics for IT."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from server.db import get_session
from server.gatestate import current_version
from server.metrics import GATE_VERSION, OPEN_EXCEPTIONS
from server.models import ExceptionStatus, ScanException

bp = Blueprint("health", __name__)

OK = b'{"status":"ok"}'
UNREACHABLE = b'{"database":"unreachable","status":"error"}'


class Liveness:
    """Whether the database answers, asked at most once per `max_age_s`.

    A load balancer polls /healthz many times a second per process; each poll used to open a
    session and run `SELECT 1`. Now one poll per `max_age_s` runs the probe and the others answer
    what it found; while a probe runs, the others answer the previous finding instead of queueing
    behind it. `monotonic` is the clock the age is measured on (seconds, only ever compared)."""

    def __init__(
        self, engine: Engine, max_age_s: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ):
        self._engine, self._max_age, self._monotonic = engine, max_age_s, monotonic
        self._lock = threading.Lock()
        self._alive: bool | None = None
        self._checked_at = 0.0

    def alive(self) -> bool:
        now = self._monotonic()
        if self._alive is not None and now - self._checked_at < self._max_age:
            return self._alive
        if not self._lock.acquire(blocking=self._alive is None):
            return self._alive  # another thread is probing; its previous finding stands meanwhile
        try:
            if self._alive is None or self._monotonic() - self._checked_at >= self._max_age:
                self._alive = self._probe()
                self._checked_at = self._monotonic()
            return self._alive
        finally:
            self._lock.release()

    def _probe(self) -> bool:
        try:
            with self._engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return False
        return True


@bp.get("/healthz")
def healthz():
    """200 when the database answered (within the last second); 503 otherwise. No authentication."""
    if current_app.extensions["shipgate.liveness"].alive():
        return Response(OK, mimetype="application/json")
    return Response(UNREACHABLE, status=503, mimetype="application/json")


@bp.get("/metrics")
def metrics():
    session = get_session()
    GATE_VERSION.set(current_version(session))
    OPEN_EXCEPTIONS.set(
        session.scalar(select(func.count()).where(ScanException.status == ExceptionStatus.OPEN)) or 0
    )
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
