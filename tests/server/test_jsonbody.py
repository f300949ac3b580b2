"""server.jsonbody: the one strict JSON decoder of every body the server accepts, and the endpoints
that once answered 500 to a deeply nested body (RecursionError in json.loads)."""

from __future__ import annotations

import json

import pytest

from server.douyin.signing import event_sign
from server.jsonbody import MAX_DEPTH, JsonRefused, decode, nesting_depth
from server.models import Shop, WebhookMessage


@pytest.mark.parametrize(
    "raw, error",
    [
        (b"[" * 5000, "json_too_deep"),
        (b"[" * 5000 + b"]" * 5000, "json_too_deep"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "json_too_deep"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate_key"),
        (b"\xef\xbb\xbf{}", "malformed_json"),
        (b'{"a": "\xff"}', "malformed_json"),
        (b'{"a": "\xed\xa0\x80"}', "malformed_json"),  # a surrogate encoded in UTF-8
        (b'{"a": NaN}', "malformed_json"),
        (b'{"a": -Infinity}', "malformed_json"),
        (b'{"a": 1e400}', "number_out_of_range"),
        (b'{"a": ' + b"9" * 5000 + b"}", "number_out_of_range"),
        (b"", "malformed_json"),
        (b"   ", "malformed_json"),
        (b"{not json", "malformed_json"),
        (b'{"a": 1} {"b": 2}', "malformed_json"),
    ],
)
def test_what_no_body_may_be_is_refused_with_its_reason(raw, error):
    with pytest.raises(JsonRefused) as info:
        decode(raw)
    assert info.value.error == error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)  # zh-CN


@pytest.mark.parametrize("raw", [b"1", b'"x"', b"true", b"null", b"[]", b"-0.5"])
def test_a_top_level_value_of_the_wrong_kind_is_refused(raw):
    with pytest.raises(JsonRefused, match="必须是 JSON 对象"):
        decode(raw, expect=dict)


def test_good_json_comes_back_as_json_loads_gives_it():
    value = {
        "scan_id": "s-1",
        "code": '中文[{]}\\"',
        "n": [1, -2.5, 10**30, None, True],
        "deep": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)),  # 32 levels with the object
    }
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert decode(raw, expect=dict) == value == decode(raw.decode())


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 1000 + '\\"' + "{" * 1000})
    assert nesting_depth(text) == 1
    assert decode(text)["a"].startswith("[[[")


def test_depth_is_counted_exactly_at_the_limit():
    assert nesting_depth("[" * MAX_DEPTH + "]" * MAX_DEPTH) == MAX_DEPTH
    decode("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(JsonRefused):
        decode("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


# -- the endpoints: 400 with the reason, never 500, nothing written ---------------------------------

DEEP = b'{"scan_id": "d-1", "code": ' + b"[" * 5000 + b"]" * 5000 + b"}"


@pytest.mark.parametrize("url", ["/api/v1/scans", "/api/v1/scans/batch", "/api/v1/heartbeat"])
@pytest.mark.parametrize("raw", [b"[" * 5000, DEEP])
def test_a_deeply_nested_station_body_gets_400(client, auth, url, raw):
    response = client.post(url, data=raw, content_type="application/json", headers=auth)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "json_too_deep",
        "message": "请求体的 JSON 嵌套过深（最多 32 层）",
    }


@pytest.mark.parametrize("where", ["body", "data"])
def test_a_deeply_nested_push_gets_400_and_stores_nothing(client, session, where):
    shop = Shop(shop_id="80000042", name="", app_key="7000000000000000042", app_secret="push-secret")
    session.add(shop)
    session.commit()
    deep = "[" * 5000 + "]" * 5000
    if where == "body":
        raw = deep.encode()
    else:
        raw = json.dumps([{"tag": "206", "msg_id": "1", "data": deep}]).encode()
    headers = {"app-id": shop.app_key, "event-sign": event_sign(shop.app_key, shop.app_secret, raw)}
    response = client.post("/webhooks/douyin", data=raw, headers=headers, content_type="application/json")
    assert response.status_code == 400
    reply = response.get_json()
    assert reply["error"] == "malformed_push" and "嵌套过深" in reply["message"] and reply["code"] == 400
    assert session.query(WebhookMessage).count() == 0
