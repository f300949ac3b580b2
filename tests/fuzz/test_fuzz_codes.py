"""shipgate.codes.classify under generated input: it never raises, and what it calls valid is
exactly what the station and the server can look up."""

from __future__ import annotations

import re

import pytest
from fuzzkit import any_text, fuzz, scanner_codes
from hypothesis import assume, event, given
from hypothesis import strategies as st

from shipgate.codes import CARRIER_PATTERNS, MAX_CODE_LENGTH, CodeKind, classify, normalise

ASCII_ORDER_ID = re.compile(r"[0-9]{19}", re.ASCII)
OWN_VALUE = re.compile(r"[0-9A-Za-z_-]{1,48}", re.ASCII)
inputs = st.one_of(scanner_codes, any_text, st.text(max_size=200))


def ascii_digits_only(text: str) -> bool:
    return not any(ch.isdigit() and not ch.isascii() for ch in text)


@fuzz(10.0)
@given(raw=inputs)
def test_classify_never_raises_and_valid_codes_are_clean(raw):
    assume(ascii_digits_only(raw))  # BUG below: non-ASCII digits
    code = classify(raw)
    event(code.kind.value)
    assert isinstance(code.kind, CodeKind)
    assert len(code.value) <= MAX_CODE_LENGTH
    if not code.valid:
        assert code.problem
        return
    assert code.value and code.value == code.value.strip()
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in code.value)
    if code.kind is CodeKind.ORDER_ID:
        assert ASCII_ORDER_ID.fullmatch(code.value)
    elif code.kind is CodeKind.TRACKING_NO:
        assert code.value == code.value.upper() and code.value.isascii()
        assert CARRIER_PATTERNS[code.carrier].match(code.value)
    else:
        assert OWN_VALUE.fullmatch(code.value)


@fuzz(5.0)
@given(raw=inputs)
def test_classify_is_stable_under_its_own_normalisation(raw):
    code = classify(raw)
    event(code.kind.value)
    if code.valid:
        assert classify(normalise(raw)) == code
    if code.kind in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
        again = classify(code.value)
        assert (again.kind, again.value) == (code.kind, code.value)


@fuzz(3.0)
@given(
    raw=st.from_regex(r"\A(SF[0-9]{12,13}|YT[0-9]{13}|JT[0-9]{12,13}|JD[A-Z0-9]{2}[0-9]{11}|DPK[0-9]{12})\Z")
)
def test_tracking_numbers_do_not_depend_on_case(raw):
    code = classify(raw)
    assert code.kind is CodeKind.TRACKING_NO
    assert classify(raw.lower()) == code == classify(f"  ]C0{raw.lower()}\r\n")


@fuzz(2.0)
@given(value=st.none() | st.integers() | st.binary() | st.lists(st.text()))
def test_non_text_is_invalid_not_an_error(value):
    assert classify(value).kind is CodeKind.INVALID


@pytest.mark.parametrize(
    "raw",
    [
        "４８３５８０４１４２１４６７５６４４１",  # fullwidth
        "٤٨٣٥٨٠٤١٤٢١٤٦٧٥٦٤٤١",  # Arabic-Indic
        "SF１２３４５６７８９０１２３",
    ],
    ids=["fullwidth", "arabic-indic", "tracking-fullwidth"],
)
def test_non_ascii_digits_are_never_order_ids_or_tracking_numbers(raw):
    code = classify(raw)
    assert code.kind is CodeKind.INVALID or code.value.isascii()
