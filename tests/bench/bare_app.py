"""The gate benchmark's ceiling: a bare Flask + waitress app over the project's own database.

`GET /healthz` answers {"status": "ok"} and touches nothing. `POST /read` takes the same JSON body
as a scan, reads the code's gate entry with the gate's own indexed join (gate_codes -> gate_entries,
one round trip on a per-thread DBAPI connection) and answers it with jsonify. No authentication,
no validation, no journal, no metrics: what any Flask app pays for one read and a JSON reply.
`POST /write` does the same read, then what any Flask app pays to keep a record of it: one INSERT of
the scan into the project's own `scans` table (same indexes) and a COMMIT before answering, on the
same per-thread connection (one writer at a time on SQLite, behind a lock, as SQLite allows).

Run as `python tests/bench/bare_app.py --port P --threads 8 --database URL` (sqlite:///path or
postgresql+psycopg://...).
"""

from __future__ import annotations

import argparse
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from waitress import serve

READ = (
    "SELECT e.order_id, e.decision, e.reason, e.version FROM gate_codes c "
    "JOIN gate_entries e ON e.order_id = c.order_id WHERE c.code = {mark}"
)


WRITE = (
    "INSERT INTO scans (station_id, scan_id, warehouse_id, code, code_kind, mode, scanned_at, received_at,"
    " decision, reason, order_id, sku_out, gate_version, source)"
    " VALUES ({marks})"
)
STATION = "SELECT id, warehouse_id FROM stations ORDER BY id LIMIT 1"


def connector(url: str):
    """A function opening one DBAPI connection to `url`, and the read and write with their placeholders."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]

        def connect():
            connection = sqlite3.connect(path, check_same_thread=False)
            connection.execute("PRAGMA synchronous=NORMAL")  # as the project's (WAL: no sync a commit)
            return connection

        return connect, READ.format(mark="?"), WRITE.format(marks=", ".join("?" * 14))
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return (
        (lambda: psycopg.connect(plain, autocommit=True)),
        READ.format(mark="%s"),
        WRITE.format(marks=", ".join(["%s"] * 14)),  # autocommit: the INSERT is its own commit
    )


def create_app(url: str) -> Flask:
    connect, sql, write_sql = connector(url)
    sqlite = url.startswith("sqlite")
    local = threading.local()
    one_writer = threading.Lock()
    app = Flask(__name__)

    def db():
        if not hasattr(local, "db"):
            local.db = connect()
        return local.db

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/read")
    def read():
        code = request.get_json()["code"]
        row = db().execute(sql, (code,)).fetchone()
        if row is None:
            return jsonify(code=code, decision="HOLD"), 200
        order_id, decision, reason, version = row
        return jsonify(code=code, order_id=order_id, decision=decision, reason=reason, version=version)

    @app.post("/write")
    def write():
        body = request.get_json()
        connection = db()
        row = connection.execute(sql, (body["code"],)).fetchone()
        order_id, decision, reason, version = row or (None, "HOLD", "unknown_order", 0)
        if not hasattr(local, "station"):
            local.station = connection.execute(STATION).fetchone()
        station_id, warehouse_id = local.station
        now = datetime.now(UTC)
        if sqlite:
            now = now.replace(tzinfo=None).isoformat(" ")  # as SQLAlchemy stores it on SQLite
        values = (station_id, body["scan_id"], warehouse_id, body["code"], "order_id", "bench",
                  now, now, decision, reason, order_id, "[]", version, "online")  # fmt: skip
        if sqlite:
            with one_writer:
                connection.execute(write_sql, values)
                connection.commit()
        else:
            connection.execute(write_sql, values)
        return jsonify(
            code=body["code"], order_id=order_id, decision=decision, reason=reason, version=version
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    serve(create_app(args.database), host="127.0.0.1", port=args.port, threads=args.threads, ident="bare")


if __name__ == "__main__":
    main()
