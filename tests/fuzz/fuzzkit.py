"""The fuzz suite's kit: Hypothesis settings, input strategies, row counts and the known open bugs.

Profiles (pick with SHIPGATE_FUZZ_PROFILE): `fuzz` (default, what `make test` runs, ~a minute in
all), `soak` (what `make soak` runs: many more examples, no time limit).

Inputs that hit a bug already written down as a strict xfail test are filtered out here, one
predicate per bug, so the properties keep testing everything else; delete the predicate when the
bug's fix lands (its xfail test then starts passing and must be unmarked).
"""

from __future__ import annotations

import json
import os
import string
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text

APP_KEY = "7000000000000000777"  # the shop that signs pushes in the webhook properties
APP_SECRET = "fuzz-shop-secret-1234"
SHOP_ID = "80000777"

# -- profiles ----------------------------------------------------------------------------------

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # the app and database are reused on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    "database": None,  # no .hypothesis directory in the tree
    "print_blob": True,
}
settings.register_profile("fuzz", max_examples=100, derandomize=True, **_COMMON)  # make test: repeatable
settings.register_profile("soak", max_examples=600, **_COMMON)

PROFILE = os.environ.get("SHIPGATE_FUZZ_PROFILE", "fuzz")


def fuzz(scale: float = 1.0) -> settings:
    """The settings for one property: the profile's example count times `scale`."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=max(10, int(base.max_examples * scale)))


# -- strategies --------------------------------------------------------------------------------

# Text including what scanners and attackers send: controls, NUL, CJK, fullwidth and other
# non-ASCII digits, and (through raw JSON) lone surrogates.
any_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=("Cs",)) | st.sampled_from("\x00\x07\r\n\t "),
    max_size=80,
)
long_text = st.text(alphabet=string.ascii_letters + string.digits + "中文", min_size=60, max_size=700)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)

valid_scan_ids = st.from_regex(r"\A[A-Za-z0-9_.:-]{1,64}\Z")
order_like = st.from_regex(r"\A[0-9]{19}\Z")
tracking_like = st.sampled_from(["SF", "YT", "JT", "JDVA", "DPK", "77", "sf", "RR", ""]).flatmap(
    lambda prefix: st.from_regex(r"\A[0-9]{9,15}[A-Z]{0,2}\Z").map(lambda rest: prefix + rest)
)
own_like = st.sampled_from(["SG-OP-", "SG-EX-", "SG-RS-", "SG-DR-", "SG-XX-"]).flatmap(
    lambda prefix: st.from_regex(r"\A[0-9A-Za-z_-]{0,50}\Z").map(lambda rest: prefix + rest)
)
codes = order_like | tracking_like | own_like | any_text | long_text
aim = st.sampled_from(["", "]C0", "]Q1", "]E0", " ", "\t"])
scanner_codes = st.builds(lambda p, c, s: p + c + s, aim, codes, st.sampled_from(["", " ", "\r", "\n"]))

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
datetimes = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
iso_times = (
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), datetimes, offsets)
    | st.builds(lambda d: d.isoformat() + "Z", datetimes)
    | st.builds(lambda d: d.isoformat(), datetimes)  # naive: refused
    | st.just("2026-11-26T09:00:00+08:00")
    | any_text
)
modes = st.sampled_from(["bench", "handover", "BENCH", "", "courier"]) | json_values
decisions = st.sampled_from(["PASS", "BLOCK", "HOLD", "pass", "", "MAYBE"]) | json_values
reasons = (
    st.sampled_from(["clear", "refunded", "stale_replica", "unknown_order", "disk_full", "journal_error", ""])
    | json_values
)

_MISSING = object()


def _field(valid, weird):
    """Mostly a valid value, sometimes anything, sometimes left out."""
    return st.one_of(valid, valid, weird, st.just(_MISSING))


def scan_items(*, offline: bool) -> st.SearchStrategy:
    fields = {
        "scan_id": _field(valid_scan_ids, json_values | any_text | long_text),
        "code": _field(scanner_codes, json_values),
        "scanned_at": _field(st.just("2026-11-26T09:00:00+08:00"), iso_times | json_values),
        "operator": st.one_of(st.just(_MISSING), st.none(), any_text, json_values),
        "mode": st.one_of(st.just(_MISSING), modes),
    }
    if offline:
        fields |= {
            "station_decision": _field(st.sampled_from(["PASS", "BLOCK", "HOLD"]), decisions),
            "station_reason": _field(st.sampled_from(["clear", "refunded", "stale_replica"]), reasons),
            "station_gate_version": st.one_of(
                st.just(_MISSING), st.none(), st.integers(-5, 2**70), st.booleans(), any_text
            ),
        }

    def build(values: dict, extra: dict) -> dict:
        item = {k: v for k, v in values.items() if v is not _MISSING}
        item.update(extra)
        return item

    extra = st.one_of(st.just({}), st.just({}), st.dictionaries(any_text, json_values, max_size=2))
    return st.builds(build, st.fixed_dictionaries(fields), extra)


def dumps(value) -> bytes:
    """JSON as a client might send it (NaN/Infinity allowed through, non-ASCII unescaped)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


# Hostile JSON: what no body may be, however it is otherwise shaped. Each example is
# (kind, raw bytes); every kind must be refused with a 4xx naming the reason (HOSTILE_ERRORS).
_HOLE = "\ue000hostile\ue000"  # a placeholder value replaced by the hostile fragment

_deep = st.builds(
    lambda depth, opener, closed: opener * depth + (b"1" + _closer(opener) * depth if closed else b""),
    st.integers(min_value=33, max_value=6000),
    st.sampled_from([b"[", b'{"a":', b'[{"a":']),
    st.booleans(),
)


def _closer(opener: bytes) -> bytes:
    return {b"[": b"]", b'{"a":': b"}", b'[{"a":': b"}]"}[opener]


_huge = st.one_of(
    st.integers(min_value=4301, max_value=20000).map(lambda n: b"9" * n),  # past int's digit limit
    st.integers(min_value=4301, max_value=6000).map(lambda n: b"-" + b"1" * n),
    st.sampled_from([b"1e400", b"-1e999", b"1" * 400 + b".5", b"2E+308"]),  # a float would be inf
)
_constants = st.sampled_from([b"NaN", b"Infinity", b"-Infinity"])
_bad_utf8 = st.sampled_from(
    [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"]
)
_scalars = st.sampled_from([b"1", b"-0.5", b'"text"', b"true", b"false", b"null", b"  0  ", b'"\\u0000"'])

HOSTILE_ERRORS = {
    "deep": {"json_too_deep"},
    "huge": {"number_out_of_range"},
    "constant": {"malformed_json"},
    "duplicate": {"duplicate_key"},
    "utf8": {"malformed_json"},
    "bom": {"malformed_json"},
    "scalar": {"malformed_json"},
}


def _inside(body: dict, fragment: bytes, key: str | None = None) -> bytes:
    """`body` as JSON with one value (the first key's, or a new `key`'s) replaced by `fragment`."""
    name = key or next(iter(body), "x")
    raw = dumps({**body, name: _HOLE})
    return raw.replace(dumps(_HOLE), fragment, 1)


def hostile(bodies: st.SearchStrategy) -> st.SearchStrategy:
    """(kind, raw): a valid-looking body (a dict from `bodies`) made unacceptable in one way."""
    dicts = bodies.filter(lambda b: isinstance(b, dict) and b)
    return st.one_of(
        _deep.map(lambda raw: ("deep", raw)),
        st.tuples(dicts, _deep).map(lambda t: ("deep", _inside(*t))),
        st.tuples(dicts, _huge).map(lambda t: ("huge", _inside(*t))),
        st.tuples(dicts, _constants).map(lambda t: ("constant", _inside(*t))),
        dicts.map(lambda b: ("duplicate", _duplicate(b))),
        st.tuples(dicts, _bad_utf8).map(lambda t: ("utf8", _inside(t[0], b'"' + t[1] + b'"'))),
        dicts.map(lambda b: ("bom", b"\xef\xbb\xbf" + dumps(b))),
        _scalars.map(lambda raw: ("scalar", raw)),
    )


def _duplicate(body: dict) -> bytes:
    key, value = next(iter(body.items()))
    raw = dumps(body)
    return raw[:-1] + b"," + dumps(key) + b":" + dumps([value]) + b"}"


HOSTILE_WORDS = {  # what the zh-CN message says for each kind (the station API and the receiver)
    "deep": ("嵌套过深",),
    "huge": ("数字超出范围", "整数位数过多", "float"),  # (the push parser: "float" for a damaged id)
    "constant": ("不允许",),
    "duplicate": ("重复的键",),
    "utf8": ("UTF-8",),
    "bom": ("BOM",),
    "scalar": ("必须是 JSON",),
}


def check_hostile_refusal(response, kind: str, *, error: str | None = None) -> None:
    """Refused with 400, the error code of the kind (or `error`), and a zh-CN message naming why."""
    check_refusal(response)
    body = response.get_json()
    assert response.status_code == 400, (kind, response.status_code, body)
    assert body["error"] in ({error} if error else HOSTILE_ERRORS[kind]), (kind, body)
    assert any(word in body["message"] for word in HOSTILE_WORDS[kind]), (kind, body)


# -- state -------------------------------------------------------------------------------------

COUNTED = (
    "scans",
    "exceptions",
    "webhook_inbox",
    "gate_entries",
    "orders",
    "after_sales",
    "stations",
    "audit_log",
)


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar() for name in COUNTED}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}


# -- inputs of bugs this suite found (now fixed; the predicates remain for the soak profile) ----


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def has_nul(value) -> bool:
    """BUG (PostgreSQL): a NUL in a scan's code/operator fails the journal insert (503)."""
    return any("\x00" in s for s in _strings(value))


def extreme_time(value) -> bool:
    """BUG: a scanned_at whose UTC form is outside year 1..9999 fails the journal insert (503)."""
    for s in _strings(value):
        try:
            parsed = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            try:
                parsed.astimezone(UTC)
            except OverflowError:
                return True
    return False


def not_decimal_digits(raw: str) -> bool:
    """BUG: a query argument like "²" passes str.isdigit() but not int(): 500 on GET /api/v1/gate."""
    return raw.isdigit() and not raw.isdecimal()


def scan_exists(engine, station_id: int, scan_id: str) -> bool:
    if "\x00" in scan_id:  # the API refuses such ids, and PostgreSQL cannot even compare them
        return False
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM scans WHERE station_id = :s AND scan_id = :i"),
            {"s": station_id, "i": scan_id},
        ).first()
    return found is not None


ANSWER_FIELDS = {
    "scan_id",
    "decision",
    "reason",
    "message",
    "order_id",
    "sku_order_ids_out",
    "gate_version",
    "decided_at",
    "exception_id",
    "waybill",
}


def check_answer(answer: dict, scan_id: str, *, online: bool = True) -> None:
    """A scan answer follows shipgate.wire (online: an exception exactly for BLOCK and HOLD)."""
    from shipgate.wire import Decision, Reason

    assert set(answer) >= ANSWER_FIELDS, answer
    assert answer["scan_id"] == scan_id
    assert answer["decision"] in {d.value for d in Decision}
    assert answer["reason"] in {r.value for r in Reason}
    assert isinstance(answer["message"], str) and answer["message"]
    assert isinstance(answer["gate_version"], int)
    if online:
        assert (answer["exception_id"] is None) == (answer["decision"] == "PASS"), answer


def check_refusal(response) -> None:
    """A refusal is a 4xx JSON body {error, message}."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), response.get_data(as_text=True)[
        :300
    ]
    assert isinstance(body.get("message"), str) and body["message"]


ENUM_FIELDS = ("mode", "station_decision", "station_reason")


def unhashable_enum(value) -> bool:
    """BUG: a list or object as mode/station_decision/station_reason raises TypeError (500)."""
    items = value.get("scans") if isinstance(value, dict) and "scans" in value else [value]
    if not isinstance(items, list):
        return False
    return any(
        isinstance(item, dict) and any(isinstance(item.get(f), list | dict) for f in ENUM_FIELDS)
        for item in items
    )


def is_lead_code(raw: str) -> bool:
    """A lead's badge, exception QR or resolution code: answered, never an exception of its own."""
    from shipgate.codes import CodeKind, classify

    return classify(raw).kind in (CodeKind.BADGE, CodeKind.EXCEPTION, CodeKind.RESOLUTION)
