"""Prometheus metrics, defined once per process and exposed at /metrics."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

SCANS = Counter("shipgate_scans_total", "Scans decided", ["decision", "reason", "source"])
SCAN_SECONDS = Histogram(
    "shipgate_scan_seconds",
    "Time to decide and journal a scan on the server",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
HTTP_ERRORS = Counter("shipgate_http_errors_total", "Requests refused, by error code", ["error"])
GATE_VERSION = Gauge("shipgate_gate_version", "Current gate version")
OPEN_EXCEPTIONS = Gauge("shipgate_open_exceptions", "Blocked and held scans awaiting a lead")
WEBHOOK_MESSAGES = Counter("shipgate_webhook_messages_total", "Douyin pushes received", ["outcome"])
GATE_HOOK_FAILURES = Counter(
    "shipgate_gate_hook_failures_total", "Hooks after a gate recompute that failed (logged)", ["hook"]
)
SYNC_RECORDS = Counter("shipgate_sync_records_total", "Records pulled from Douyin", ["stream"])


@functools.cache
def _scans_child(decision: str, reason: str, source: str):
    return SCANS.labels(decision, reason, source)  # a few dozen combinations, each looked up once


def count_scan(decision: str, reason: str, source: str) -> None:
    """One decided scan, counted without the labels look-up on every request."""
    _scans_child(decision, reason, source).inc()
