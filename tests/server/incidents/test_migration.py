"""Migration 0003: the schema it builds is the one the models describe; it downgrades cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server import db
from server.models import Base

INCIDENT_TABLES = {
    "incidents",
    "incident_events",
    "contact_templates",
    "robots",
    "robot_outbox",
    "alert_settings",
}


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if any(name in str(d) for name in INCIDENT_TABLES)] == []


def test_downgrade_to_0002_and_up_again(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= INCIDENT_TABLES
    config = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert not INCIDENT_TABLES & set(inspect(engine).get_table_names())
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= INCIDENT_TABLES
