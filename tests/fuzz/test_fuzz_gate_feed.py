"""GET /api/v1/gate (the replica feed) under generated query arguments: never a 5xx, never a
change; paging with any limit from any cursor yields each entry once, in version order."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from factories import make_order, refund
from fuzzkit import any_text, check_refusal, fuzz, row_counts
from hypothesis import given
from hypothesis import strategies as st

FEED_URL = "/api/v1/gate"

arg_values = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", "0", "00", "1e3", "0x10", "+5", "-0", " 7", "7 ", "٣", "²", "１２", "9" * 19]),
    any_text,
)
arg_names = st.sampled_from(["since", "limit", "since", "limit", "x", "SINCE"]) | any_text


@pytest.fixture
def orders(session):
    made = [make_order(session, tracking_no=f"SF{n:013d}") for n in range(12)]
    for order in made[::3]:
        refund(session, order)
    return made


@fuzz(1.0)
@given(args=st.lists(st.tuples(arg_names, arg_values), max_size=4))
def test_any_query_is_answered_or_refused_without_change(client, engine, stations, orders, args):
    _station_id, headers = stations["bench-a"]
    query = "&".join(f"{quote(name)}={quote(value)}" for name, value in args)
    before = row_counts(engine)
    response = client.get(f"{FEED_URL}?{query}", headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert row_counts(engine) == before
    if response.status_code != 200:
        check_refusal(response)
        return
    feed = response.get_json()
    assert isinstance(feed["version"], int) and isinstance(feed["next"], int)
    assert isinstance(feed["more"], bool) and isinstance(feed["entries"], list)
    limits = [value for name, value in args if name == "limit"]  # the first one counts
    limit = int(limits[0]) if limits else 1000
    assert len(feed["entries"]) <= limit
    versions = [e["version"] for e in feed["entries"]]
    assert versions == sorted(versions) and all(isinstance(e["order_id"], str) for e in feed["entries"])


@fuzz(0.5)
@given(limit=st.integers(min_value=1, max_value=7), since=st.integers(min_value=0, max_value=40))
def test_paging_yields_every_entry_once_in_order(client, stations, orders, limit, since):
    _station_id, headers = stations["bench-a"]
    everything = client.get(f"{FEED_URL}?since=0&limit=5000", headers=headers).get_json()
    expected = [e["order_id"] for e in everything["entries"] if e["version"] > since]
    seen, cursor = [], since
    for _page in range(100):
        feed = client.get(f"{FEED_URL}?since={cursor}&limit={limit}", headers=headers).get_json()
        seen += [e["order_id"] for e in feed["entries"]]
        if not feed["more"]:
            break
        assert feed["next"] > cursor
        cursor = feed["next"]
    assert seen == expected
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("value", ["²", "①", "5²"])
def test_digit_like_characters_are_refused_with_400(client, stations, value):
    _station_id, headers = stations["bench-a"]
    response = client.get(f"{FEED_URL}?since={quote(value)}", headers=headers)
    check_refusal(response)
