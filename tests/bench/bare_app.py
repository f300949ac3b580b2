"""The gate benchmark's ceiling: a bare Flask + waitress app over the project's own database.

`GET /healthz` answers {"status": "ok"} and touches nothing. `POST /read` takes the same JSON body
as a scan, reads the code's gate entry with the gate's own indexed join (gate_codes -> gate_entries,
one round trip on a per-thread DBAPI connection) and answers it with jsonify. No authentication,
no validation, no journal, no metrics: what any Flask app pays for one read and a JSON reply.

Run as `python tests/bench/bare_app.py --port P --threads 8 --database URL` (sqlite:///path or
postgresql+psycopg://...).
"""

from __future__ import annotations

import argparse
import sqlite3
import threading

from flask import Flask, jsonify, request
from waitress import serve

READ = (
    "SELECT e.order_id, e.decision, e.reason, e.version FROM gate_codes c "
    "JOIN gate_entries e ON e.order_id = c.order_id WHERE c.code = {mark}"
)


def connector(url: str):
    """A function opening one DBAPI connection to `url`, and the read with its placeholder."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        return (lambda: sqlite3.connect(path, check_same_thread=False)), READ.format(mark="?")
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return (lambda: psycopg.connect(plain, autocommit=True)), READ.format(mark="%s")


def create_app(url: str) -> Flask:
    connect, sql = connector(url)
    local = threading.local()
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/read")
    def read():
        code = request.get_json()["code"]
        if not hasattr(local, "db"):
            local.db = connect()
        row = local.db.execute(sql, (code,)).fetchone()
        if row is None:
            return jsonify(code=code, decision="HOLD"), 200
        order_id, decision, reason, version = row
        return jsonify(code=code, order_id=order_id, decision=decision, reason=reason, version=version)

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
