"""The application factory: the server's composition root."""

from __future__ import annotations

import logging

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Engine

from server import api, clearing, console, db, errors, gatestate, health, secretbox, webhooks
from server.clock import SYSTEM, Clock
from server.incidents import detect
from server.scans import Gate, LiveLookup
from server.settings import Settings
from server.stations import StationAuth
from server.sync.lookup import DouyinLookup

log = logging.getLogger(__name__)


class BrowserSessions(SecureCookieSessionInterface):
    """The signed-cookie session only where a browser signs in: the station API, probes, metrics and
    Douyin's pushes carry no cookie, so they skip parsing and verifying one on every request (their
    `session` is Flask's null session, which refuses writes)."""

    STATELESS = ("/api/", "/healthz", "/metrics", "/webhooks/")

    def open_session(self, app, request):
        if request.path.startswith(self.STATELESS):
            return self.make_null_session(app)
        return super().open_session(app, request)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    migrate: bool = True,
    live_lookup: LiveLookup | None = None,
    clock: Clock = SYSTEM,
) -> Flask:
    """Build the Flask app. Settings come from the environment unless given; the database is
    migrated to the newest schema on start unless `migrate=False`. `clock` is the business clock
    every view, session and the gate read (server/clock.py); tests hand in a ManualClock."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,  # production is served over TLS (nginx)
    )
    app.json.ensure_ascii = False
    app.session_interface = BrowserSessions()
    app.extensions["shipgate.settings"] = settings
    app.extensions["shipgate.robot_hosts"] = settings.robot_host_list
    secretbox.install(settings.data_key)  # before the migration, which seals rows written in clear
    engine = engine or db.make_engine(settings.resolved_database_url)
    if migrate:
        db.upgrade(engine)
    db.init_app(app, engine, clock)
    app.extensions["shipgate.auth"] = StationAuth(engine)
    app.extensions["shipgate.liveness"] = health.Liveness(engine)
    if live_lookup is None:
        live_lookup = DouyinLookup(
            app.extensions["shipgate.sessions"], settings.douyin_gateway, settings.lookup_budget_ms
        )
    detect.install(gatestate.HOOKS)  # incident detection runs after every gate recompute
    app.extensions["shipgate.gate"] = Gate(
        engine,
        live_lookup,
        bench_codes=clearing.handle_bench_code,
        overrides=clearing.OverrideCheck(engine),
        clock=clock,
        allowed_skew_s=settings.scan_clock_skew_s,
    )
    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    console.init_app(app)
    app.register_blueprint(webhooks.bp)
    return app
