"""Push bodies: 19-digit ids stay exact; float-damaged ids are refused."""

from __future__ import annotations

import json

import pytest

from server.douyin.push import (
    PushFormatError,
    encode_push_body,
    id_str,
    loads_exact,
    parse_push_body,
    parse_push_data,
)

DATA = (
    '{"aftersale_id":7000893114000949517,"aftersale_status":12,"aftersale_type":2,'
    '"p_id":4835804142146756441,"refund_amount":8900,"s_id":4835804142146756441,'
    '"shop_id":10437917,"success_time":1700000100}'
)


def test_19_digit_ids_parse_as_exact_ints():
    data = parse_push_data(DATA)
    assert data["p_id"] == 4835804142146756441
    assert isinstance(data["aftersale_id"], int)
    assert id_str(data["aftersale_id"]) == "7000893114000949517"


@pytest.mark.parametrize(
    "damaged", ["4.835804142146756e18", "4835804142146756441.0", "4.835804142146756E+18"]
)
def test_float_damaged_ids_are_refused(damaged):
    with pytest.raises(PushFormatError, match="float"):
        parse_push_data(DATA.replace("4835804142146756441", damaged, 1))


def test_small_floats_are_allowed_but_not_in_id_fields():
    assert loads_exact('{"weight": 1.5}') == {"weight": 1.5}
    with pytest.raises(PushFormatError):
        parse_push_data('{"p_id": 1.5}')
    with pytest.raises(PushFormatError):
        parse_push_data('{"s_ids": [true]}')


@pytest.mark.parametrize("bad", ["[1]", "not json", '"text"', "NaN"])
def test_data_must_be_a_json_object(bad):
    with pytest.raises(PushFormatError):
        parse_push_data(bad)


def test_id_str():
    assert id_str("6900000000000000001") == "6900000000000000001"
    assert id_str(10437917) == "10437917"
    for bad in (True, 1.0, "12a", "-1", None):
        with pytest.raises(PushFormatError):
            id_str(bad)


def test_parse_push_body_and_roundtrip():
    body = encode_push_body(
        [("206", "7100000000000000001", json.loads(DATA)), ("102", "7100000000000000002", {"p_id": 1})]
    )
    messages = parse_push_body(body)
    assert [m.tag for m in messages] == ["206", "102"]
    assert messages[0].msg_id == "7100000000000000001"
    assert messages[0].data["s_id"] == 4835804142146756441
    assert messages[0].raw_data == DATA


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'[{"tag":"206"}]',
        b'[{"tag":"206","msg_id":"","data":"{}"}]',
        b'[{"tag":"x","msg_id":"1","data":"{}"}]',
        b'[{"tag":"2","msg_id":"1","data":{}}]',
    ],
)
def test_malformed_push_bodies(body):
    with pytest.raises(PushFormatError):
        parse_push_body(body)


def test_url_verification_message_is_accepted_whatever_its_data():
    (message,) = parse_push_body(b'[{"tag":"0","msg_id":"verify-1","data":"hello"}]')
    assert (message.tag, message.msg_id, message.data) == ("0", "verify-1", {})
