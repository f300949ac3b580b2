"""POST /api/v1/heartbeat under generated input: never a 5xx; a refusal leaves the station's
stored health and last-seen time as they were."""

from __future__ import annotations

from fuzzkit import any_text, check_hostile_refusal, check_refusal, dumps, fuzz, hostile, json_values
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

FIELDS = {
    "software_version": st.just("0.1.0") | any_text | json_values,
    "replica_version": st.integers(-5, 2**70) | json_values,
    "replica_age_s": st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-5, 10**9)
    | json_values,
    "scanner": st.sampled_from(["connected", "reconnecting"]) | any_text,
    "printer": st.sampled_from(["ready", "offline"]) | any_text,
    "queue_depth": st.integers(-1, 10**6) | json_values,
    "rss_bytes": st.integers(0, 2**40) | json_values,
    "mode": st.sampled_from(["bench", "handover"]) | any_text,
    "operator": st.none() | any_text,
    "display": st.none() | any_text,
}
heartbeats = st.fixed_dictionaries({}, optional=FIELDS) | st.dictionaries(any_text, json_values, max_size=3)


def station_row(engine, station_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT health, last_seen_at FROM stations WHERE id = :id"), {"id": station_id}
            ).one()
        )


@fuzz(1.0)
@given(body=heartbeats)
def test_generated_heartbeats_are_stored_or_refused_cleanly(client, engine, stations, body):
    station_id, headers = stations["bench-a"]
    before = station_row(engine, station_id)
    response = client.post(
        "/api/v1/heartbeat", data=dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code != 200:
        check_refusal(response)
        assert station_row(engine, station_id) == before
    else:
        assert response.get_json()["ok"] is True


def test_nan_and_infinity_are_refused_or_stored(client, engine, stations, backend, request):
    """JSON has no NaN or Infinity; Python's parser takes them, PostgreSQL's json type does not."""
    station_id, headers = stations["bench-a"]
    for raw in (b'{"replica_age_s": NaN}', b'{"replica_age_s": Infinity}', b'{"replica_age_s": -Infinity}'):
        before = station_row(engine, station_id)
        response = client.post(
            "/api/v1/heartbeat", data=raw, content_type="application/json", headers=headers
        )
        assert response.status_code in (200, 400), (raw, response.status_code)
        if response.status_code == 400:
            assert station_row(engine, station_id) == before


@fuzz(1.0)
@given(example=hostile(heartbeats))
def test_hostile_json_heartbeats_are_refused_with_their_reason(client, engine, stations, example):
    kind, raw = example
    station_id, headers = stations["bench-a"]
    before = station_row(engine, station_id)
    response = client.post("/api/v1/heartbeat", data=raw, content_type="application/json", headers=headers)
    check_hostile_refusal(response, kind)
    assert station_row(engine, station_id) == before
