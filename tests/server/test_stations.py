"""Station tokens: a token seen before is served from a per-process cache, and a revocation or a
new token committed anywhere holds from the next request, in every process."""

from __future__ import annotations

from sqlalchemy import select

from server.app import create_app
from server.models import Station
from server.stations import StationAuth, hash_token, revoke


class Recording:
    """A real DBAPI cursor that remembers the SQL it ran."""

    def __init__(self, cursor):
        self.cursor, self.sql = cursor, []

    def execute(self, sql, params):
        self.sql.append(sql)
        return self.cursor.execute(sql, params)

    def fetchone(self):
        return self.cursor.fetchone()


def test_a_cached_token_is_read_back_by_primary_key_every_time(engine, session, station_token):
    auth, connection = StationAuth(engine), engine.raw_connection()
    try:
        cursor = Recording(connection.cursor())
        first, second = auth(cursor, station_token), auth(cursor, station_token)
        assert first == second and first.name == "bench-1"
        assert "token_hash =" in cursor.sql[0] and "stations.id =" in cursor.sql[1]
        station = session.scalar(select(Station))
        station.token_hash = hash_token("sgst_a-new-token")  # the token re-issued
        session.commit()
        connection.commit()  # end the raw connection's snapshot (PostgreSQL), as a request does
        assert auth(cursor, station_token) is None
        assert auth(cursor, "sgst_a-new-token").id == station.id
    finally:
        connection.close()


def test_a_revocation_refuses_the_next_request_in_every_process(engine, settings, session, auth):
    processes = [create_app(settings, engine=engine, migrate=False) for _ in range(2)]
    clients = [app.test_client() for app in processes]
    for client in clients:  # each process has now cached the token
        assert client.get("/api/v1/gate", headers=auth).status_code == 200
        assert client.get("/api/v1/gate", headers=auth).status_code == 200
    revoke(session, session.scalar(select(Station)), actor="test")  # e.g. the console, elsewhere
    session.commit()
    for client in clients:
        refused = client.get("/api/v1/gate", headers=auth)
        assert (refused.status_code, refused.json["error"]) == (401, "invalid_token")
        assert client.get("/api/v1/gate", headers=auth).status_code == 401
