"""Liveness for load balancers and Prometheus metrics for IT."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from server.db import get_session
from server.gatestate import current_version
from server.metrics import GATE_VERSION, OPEN_EXCEPTIONS
from server.models import ExceptionStatus, ScanException

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers; 503 otherwise. No authentication."""
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok")


@bp.get("/metrics")
def metrics():
    session = get_session()
    GATE_VERSION.set(current_version(session))
    OPEN_EXCEPTIONS.set(
        session.scalar(select(func.count()).where(ScanException.status == ExceptionStatus.OPEN)) or 0
    )
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
