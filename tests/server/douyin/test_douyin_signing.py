"""Signing: the reference's worked vectors, canonical param_json, push event-sign."""

from __future__ import annotations

import pytest

from server.douyin.signing import (
    SignMethod,
    canonical_param_json,
    canonicalise_param_json,
    event_sign,
    sign_request,
    sign_string,
    verify_event_sign,
    verify_request_sign,
)

APP_KEY = "1234567890123456789"
SECRET = "test-secret-0000"
VECTOR_PARAMS = {
    "update_time_start": 1699990000,
    "update_time_end": 1700000000,
    "size": 50,
    "page": 0,
    "order_by": "update_time",
    "order_asc": True,
    "combine_status": [{"order_status": "2"}],
}
VECTOR_JSON = (
    '{"combine_status":[{"order_status":"2"}],"order_asc":true,"order_by":"update_time","page":0,'
    '"size":50,"update_time_end":1700000000,"update_time_start":1699990000}'
)


def test_canonical_param_json_matches_the_worked_example():
    assert canonical_param_json(VECTOR_PARAMS) == VECTOR_JSON


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (SignMethod.HMAC_SHA256, "285c6b945575011ee2e06b76a6587c94d671871664e1a8b770f237c1da7a0508"),
        (SignMethod.MD5, "e3f949338be47251d37031fedd84c9d2"),
    ],
)
def test_worked_example_signature(method, expected):
    assert sign_request(APP_KEY, SECRET, "order.searchList", VECTOR_JSON, "1700000000", method) == expected
    assert verify_request_sign(
        expected,
        app_key=APP_KEY,
        app_secret=SECRET,
        method="order.searchList",
        param_json=VECTOR_JSON,
        timestamp="1700000000",
        sign_method=method,
    )


def test_sign_string_layout():
    text = sign_string("k", "s", "token.create", "{}", "1700000000")
    assert text == "sapp_keykmethodtoken.createparam_json{}timestamp1700000000v2s"


def test_canonical_sorts_every_level_including_objects_inside_arrays():
    params = {"b": [{"z": 1, "a": {"y": 2, "x": [{"d": 1, "c": 2}]}}], "a": "中文<&>"}
    assert canonical_param_json(params) == '{"a":"中文<&>","b":[{"a":{"x":[{"c":2,"d":1}],"y":2},"z":1}]}'


def test_canonical_omits_nulls_and_empty_is_braces():
    assert canonical_param_json({"a": None, "b": {"c": None, "d": 1}}) == '{"b":{"d":1}}'
    assert canonical_param_json({}) == "{}"
    assert canonical_param_json(None) == "{}"


def test_canonical_keeps_19_digit_ints_exact():
    assert (
        canonical_param_json({"after_sale_id": 7000893114000949517})
        == '{"after_sale_id":7000893114000949517}'
    )


def test_canonicalise_received_json():
    assert canonicalise_param_json('{"b": 1, "a": [ {"d":null,"c":1} ]}') == '{"a":[{"c":1}],"b":1}'
    with pytest.raises(ValueError):
        canonicalise_param_json("[1]")


def test_a_wrong_signature_does_not_verify():
    good = sign_request(APP_KEY, SECRET, "order.searchList", VECTOR_JSON, "1700000000")
    kwargs = dict(app_key=APP_KEY, app_secret=SECRET, method="order.searchList", timestamp="1700000000")
    assert not verify_request_sign(good, param_json=VECTOR_JSON.replace("50", "51"), **kwargs)
    assert not verify_request_sign("", param_json=VECTOR_JSON, **kwargs)


# The reference's push example, exact bytes as shown (data is a JSON string inside the array).
PUSH_BODY = (
    b'[{"tag":"206","msg_id":"7000000000000000001","data":"{\\"aftersale_id\\":7000893114000949517,'
    b'\\"aftersale_status\\":12,\\"aftersale_type\\":2,\\"p_id\\":4835804142146756441,\\"refund_amount\\":8900,'
    b'\\"s_id\\":4835804142146756441,\\"shop_id\\":10437917,\\"success_time\\":1700000100}"}]'
)


def test_reference_push_example_event_sign_reproduces():
    assert event_sign(APP_KEY, SECRET, PUSH_BODY) == "57e71e8bb8a9b53c064b1324a7d702f8"
    assert verify_event_sign(APP_KEY, SECRET, PUSH_BODY, "57E71E8BB8A9B53C064B1324A7D702F8")


def test_event_sign_is_over_the_exact_bytes():
    assert not verify_event_sign(APP_KEY, SECRET, PUSH_BODY + b" ", "57e71e8bb8a9b53c064b1324a7d702f8")
    assert not verify_event_sign(APP_KEY, SECRET, PUSH_BODY, None)
    assert not verify_event_sign(APP_KEY, "other-secret", PUSH_BODY, "57e71e8bb8a9b53c064b1324a7d702f8")
