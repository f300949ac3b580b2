"""The sandbox gateway's protocol checks, through Flask's test client (no network needed)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from douyin_sandbox import create_sandbox_app
from douyin_sandbox.protocol import GatewayError, parse_timestamp
from server.douyin.signing import canonical_param_json, sign_request

CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def web(sandbox):
    return create_sandbox_app(sandbox=sandbox).test_client()


def signed_query(config, method, param_json, *, timestamp=None, sign_method="hmac-sha256", **extra):
    timestamp = timestamp or str(int(time.time()))
    query = {"app_key": config.app_key, "method": method, "timestamp": timestamp, "v": "2"}
    if sign_method:
        query["sign_method"] = sign_method
    query["sign"] = sign_request(
        config.app_key, config.app_secret, method, param_json, timestamp, sign_method or "md5"
    )
    query.update(extra)
    return query


def create_self(config):
    return canonical_param_json({"code": "", "grant_type": "authorization_self", "shop_id": config.shop_id})


def post(web, config, method, param_json, headers=None, **kwargs):
    query = signed_query(config, method, param_json, **kwargs)
    path = "/" + method.replace(".", "/")
    return web.post(path, query_string=query, data=param_json.encode(), headers=headers or {}).get_json()


def test_success_envelope_has_legacy_fields_by_default(web, sandbox_config):
    answer = post(web, sandbox_config, "token.create", create_self(sandbox_config))
    assert answer["code"] == 10000 and answer["msg"] == "success" and answer["sub_code"] == ""
    assert answer["err_no"] == 0 and answer["message"] == "success"
    assert answer["log_id"] and answer["data"]["shop_id"] == int(sandbox_config.shop_id)


def test_header_drops_legacy_fields(web, sandbox_config):
    answer = post(
        web,
        sandbox_config,
        "token.create",
        create_self(sandbox_config),
        headers={"x-open-no-old-err-code": "1"},
    )
    assert "err_no" not in answer and "message" not in answer


def test_md5_is_the_default_sign_method(web, sandbox_config):
    assert (
        post(web, sandbox_config, "token.create", create_self(sandbox_config), sign_method=None)["code"]
        == 10000
    )
    assert (
        post(web, sandbox_config, "token.create", create_self(sandbox_config), sign_method="md5")["code"]
        == 10000
    )


@pytest.mark.parametrize("where", ["query", "form"])
def test_param_json_as_query_or_form_field(web, sandbox_config, where):
    param_json = create_self(sandbox_config)
    query = signed_query(sandbox_config, "token.create", param_json)
    if where == "query":
        response = web.post("/token/create", query_string={**query, "param_json": param_json})
    else:
        response = web.post("/token/create", query_string=query, data={"param_json": param_json})
    assert response.get_json()["code"] == 10000


def test_signature_over_canonical_form_of_an_unsorted_body(web, sandbox_config):
    unsorted = json.dumps({"shop_id": sandbox_config.shop_id, "grant_type": "authorization_self", "code": ""})
    canonical = canonical_param_json(json.loads(unsorted))
    query = signed_query(sandbox_config, "token.create", canonical)  # signed sorted, sent unsorted (Java SDK)
    assert web.post("/token/create", query_string=query, data=unsorted).get_json()["code"] == 10000


def test_signature_over_the_raw_body_with_escapes_and_nulls(web, sandbox_config):
    shop_id = sandbox_config.shop_id
    raw = (
        '{"auth_id":null,"code":"","grant_type":"authorization_self","shop_id":' + shop_id + ',"x":"\\u4e2d"}'
    )
    query = signed_query(sandbox_config, "token.create", raw)
    assert web.post("/token/create", query_string=query, data=raw).get_json()["code"] == 10000


@pytest.mark.parametrize(
    ("mutate", "code", "sub_code"),
    [
        (lambda q: q.update(sign="0" * 64), 40003, "isv.signature-invalid"),
        (lambda q: q.pop("sign"), 40001, "isv.signature-missing"),
        (lambda q: q.update(app_key="7000000000000000999"), 40003, "isv.signature-invalid"),
        (lambda q: q.update(sign_method="sha1"), 40003, "isv.signature-invalid"),
        (lambda q: q.update(timestamp="yesterday"), 40003, "isv.timestamp-invalid"),
        (lambda q: q.update(method="order.orderDetail"), 40004, "isv.parameter-invalid:method"),
    ],
)
def test_refusals(web, sandbox_config, mutate, code, sub_code):
    param_json = create_self(sandbox_config)
    query = signed_query(sandbox_config, "token.create", param_json)
    mutate(query)
    answer = web.post("/token/create", query_string=query, data=param_json).get_json()
    assert (answer["code"], answer["sub_code"]) == (code, sub_code)
    assert answer["err_no"] != 0 and answer["data"] == {}


def test_unknown_method(web, sandbox_config):
    answer = post(web, sandbox_config, "logistics.fooBar", "{}")
    assert answer["code"] == 40004


def test_timestamp_formats(web, sandbox_config):
    now = time.time()
    for timestamp in (
        str(int(now)),
        str(int(now * 1000)),
        datetime.fromtimestamp(now, CHINA).strftime("%Y-%m-%d %H:%M:%S"),
    ):
        answer = post(web, sandbox_config, "token.create", create_self(sandbox_config), timestamp=timestamp)
        assert answer["code"] == 10000, timestamp


def test_timestamp_skew_over_ten_minutes_is_refused(web, sandbox_config):
    for offset, code in ((-590, 10000), (590, 10000), (-610, 40003), (610, 40003)):
        answer = post(
            web,
            sandbox_config,
            "token.create",
            create_self(sandbox_config),
            timestamp=str(int(time.time()) + offset),
        )
        assert answer["code"] == code, offset
    utc_text = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")  # the wrong zone: 8 hours off
    answer = post(web, sandbox_config, "token.create", create_self(sandbox_config), timestamp=utc_text)
    assert answer["sub_code"] == "isv.timestamp-invalid"


def test_parse_timestamp_forms():
    assert parse_timestamp("1700000000") == 1700000000
    assert parse_timestamp("1700000000123") == pytest.approx(1700000000.123)
    assert parse_timestamp("2023-11-15 06:13:20") == 1700000000
    with pytest.raises(GatewayError):
        parse_timestamp("170000000")


def test_access_token_checks(web, sandbox_config):
    missing = post(web, sandbox_config, "order.orderDetail", '{"shop_order_id":"1"}')
    assert (missing["code"], missing["sub_code"]) == (40001, "isv.access-token-missing")
    unknown = post(web, sandbox_config, "order.orderDetail", '{"shop_order_id":"1"}', access_token="nope")
    assert (unknown["code"], unknown["sub_code"]) == (40003, "isv.access-token-no-existed")


def test_param_json_must_be_an_object(web, sandbox_config):
    answer = post(web, sandbox_config, "token.create", "[1,2]")
    assert answer["sub_code"] == "isv.parameter-invalid:param_json"


def test_business_errors_carry_legacy_numbers(web, sandbox, sandbox_config):
    token = post(web, sandbox_config, "token.create", create_self(sandbox_config))["data"]["access_token"]
    answer = post(
        web,
        sandbox_config,
        "order.orderDetail",
        '{"shop_order_id":"6900000000000000000"}',
        access_token=token,
    )
    assert (answer["code"], answer["sub_code"]) == (40004, "isv.parameter-invalid:20014")
    foreign = sandbox.shop.add_foreign_order()
    answer = post(
        web, sandbox_config, "order.orderDetail", f'{{"shop_order_id":"{foreign}"}}', access_token=token
    )
    assert (answer["code"], answer["sub_code"], answer["err_no"]) == (
        50002,
        "isv.business-failed:20015",
        20015,
    )


def test_oversized_or_non_utf8_bodies_get_an_envelope(web):
    assert (
        web.post("/token/create", data=b"\xff\xfe{").get_json()["sub_code"]
        == "isv.parameter-invalid:param_json"
    )
    big = b'{"x":"' + b"a" * (1024 * 1024 + 10) + b'"}'
    assert web.post("/token/create", data=big).get_json()["sub_code"] == "isv.parameter-invalid:param_json"


def test_a_deeply_nested_param_json_gets_an_envelope(web, sandbox_config):
    answer = post(web, sandbox_config, "token.create", "[" * 5000 + "]" * 5000)
    assert (answer["code"], answer["sub_code"]) == (40004, "isv.parameter-invalid:param_json")
    control = web.post("/sandbox/orders", data=b"[" * 5000, content_type="application/json")
    assert control.status_code == 400
