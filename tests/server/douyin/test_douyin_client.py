"""DouyinClient against httpx.MockTransport: request shape, retries, rate limit, no secrets in logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from server.douyin import DouyinClient, InterceptTarget
from server.douyin.errors import (
    BadResponse,
    ConnectFailed,
    RateLimited,
    ServiceError,
    TokenExpired,
    TransportTimeout,
)
from server.douyin.signing import verify_request_sign

KEY, SECRET, TOKEN = "7000000000000000077", "very-secret-value-123", "access-token-abcdef"


def ok(data=None):
    return {
        "code": 10000,
        "msg": "success",
        "sub_code": "",
        "sub_msg": "",
        "data": data or {},
        "log_id": "L0",
    }


def fail(code, sub_code):
    return {"code": code, "msg": "x", "sub_code": sub_code, "sub_msg": "", "data": {}, "log_id": "L1"}


class Script:
    """A fake gateway: answers in turn from a list of envelopes or exceptions; records requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def make(script, **kwargs):
    kwargs.setdefault("sleep", Sleeps())
    return DouyinClient(
        "http://127.0.0.1:9/",
        KEY,
        SECRET,
        transport=httpx.MockTransport(script),
        clock=lambda: 1700000000.7,
        **kwargs,
    )


def test_request_shape_and_signature():
    script = Script(ok({"page": 0, "size": 50, "total": 0, "shop_order_list": []}))
    client = make(script)
    page = client.shop_api(TOKEN).search_orders(
        update_time_start=1699990000, update_time_end=1700000000, size=50, order_status=2
    )
    assert page.total == 0
    request = script.requests[0]
    assert request.method == "POST" and request.url.path == "/order/searchList"
    query = dict(request.url.params)
    assert query["method"] == "order.searchList" and query["v"] == "2" and query["timestamp"] == "1700000000"
    assert (
        query["app_key"] == KEY and query["access_token"] == TOKEN and query["sign_method"] == "hmac-sha256"
    )
    assert request.headers["x-open-no-old-err-code"] == "1"
    assert request.headers["content-type"] == "application/json"
    body = request.content.decode()
    assert body == (
        '{"combine_status":[{"order_status":"2"}],"order_asc":true,"order_by":"update_time","page":0,'
        '"size":50,"update_time_end":1700000000,"update_time_start":1699990000}'
    )
    assert verify_request_sign(
        query["sign"],
        app_key=KEY,
        app_secret=SECRET,
        method="order.searchList",
        param_json=body,
        timestamp="1700000000",
        sign_method="hmac-sha256",
    )


def test_md5_and_token_calls_send_no_access_token():
    script = Script(
        ok({"access_token": "a", "refresh_token": "r", "expires_in": 604800, "shop_id": 1, "shop_name": "s"})
    )
    tokens = make(script, sign_method="md5").create_token_self("80000001")
    query = dict(script.requests[0].url.params)
    assert "access_token" not in query and query["sign_method"] == "md5"
    assert json.loads(script.requests[0].content) == {
        "code": "",
        "grant_type": "authorization_self",
        "shop_id": "80000001",
    }
    assert tokens.expires_at == 1700000000 + 604800 and tokens.shop_id == "1"


def test_service_error_storm_is_retried_with_growing_backoff():
    script = Script(
        fail(20000, "isp.service-error:1"),
        fail(20000, "isp.service-error:1"),
        fail(60000, "isv.traffic-limited"),
        ok({"x": 1}),
    )
    sleeps = Sleeps()
    assert make(script, sleep=sleeps).call("afterSale.List", {"page": 0}, TOKEN) == {"x": 1}
    assert len(script.requests) == 4
    assert len(sleeps) == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0 and 1.0 <= sleeps[2] <= 2.0


def test_a_storm_longer_than_the_retries_raises():
    script = Script(fail(60000, "isv.traffic-limited"))
    with pytest.raises(RateLimited):
        make(script, max_retries=2).call("order.orderDetail", {"shop_order_id": "1"}, TOKEN)
    assert len(script.requests) == 3


def test_intercept_is_not_retried_on_an_ambiguous_failure():
    script = Script(fail(20000, "isp.service-error:1"), ok())
    api = make(script).shop_api(TOKEN)
    with pytest.raises(ServiceError):
        api.apply_logistics_intercept("7000000000000000001", [InterceptTarget("zhongtong", "75000000000001")])
    assert len(script.requests) == 1
    assert json.loads(script.requests[0].content)["after_sale_id"] == 7000000000000000001


def test_intercept_read_timeout_is_not_retried_but_read_methods_are():
    script = Script(httpx.ReadTimeout("slow"), ok())
    with pytest.raises(TransportTimeout):
        make(script).call("afterSale.applyLogisticsIntercept", {"after_sale_id": 1}, TOKEN)
    assert len(script.requests) == 1
    script = Script(httpx.ReadTimeout("slow"), ok({"y": 2}))
    assert make(script).call("afterSale.Detail", {"after_sale_id": "1"}, TOKEN) == {"y": 2}
    assert len(script.requests) == 2


def test_connect_failures_are_retried_even_for_writes():
    script = Script(httpx.ConnectError("refused"), ok({"success_count": 1}))
    data = make(script).call("afterSale.applyLogisticsIntercept", {"after_sale_id": 1}, TOKEN)
    assert data == {"success_count": 1} and len(script.requests) == 2
    with pytest.raises(ConnectFailed):
        make(Script(httpx.ConnectError("refused"))).call("order.searchList", {}, TOKEN)


def test_token_expired_is_not_retried_by_the_client():
    script = Script(fail(40003, "isv.access-token-expired"), ok())
    with pytest.raises(TokenExpired):
        make(script).call("order.searchList", {}, TOKEN)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="bad gateway"),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json=[1]),
    ],
)
def test_bad_responses(response):
    with pytest.raises(BadResponse):
        make(Script(response), max_retries=0).call("order.searchList", {}, TOKEN)


def test_big_ids_in_responses_stay_exact():
    raw = b'{"code":10000,"msg":"success","data":{"process_info":{"after_sale_info":{"after_sale_id":7000893114000949517}},"order_info":{"shop_order_id":4835804142146756441,"sku_order_infos":[]}},"log_id":"x"}'
    detail = (
        make(Script(httpx.Response(200, content=raw))).shop_api(TOKEN).aftersale_detail("7000893114000949517")
    )
    assert detail.aftersale_id == "7000893114000949517" and detail.shop_order_id == "4835804142146756441"


def test_rate_limit_paces_calls_with_the_injected_clock():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    client = make(Script(ok()), rate_limit_per_s=4, rate_clock=lambda: now[0], sleep=sleep)
    for _ in range(8):
        client.call("order.searchList", {}, TOKEN)
    assert slept == pytest.approx([0.25] * 4)
    assert now[0] == pytest.approx(1.0)


def test_no_secret_token_or_signature_in_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)
    refresh, code = "refresh-token-zzz999", "auth-code-qqq777"
    script = Script(
        fail(20000, "isp.service-error:1"),
        ok(
            {
                "access_token": "new-access-777",
                "refresh_token": "new-refresh-888",
                "expires_in": 10,
                "shop_id": 1,
            }
        ),
        fail(40003, "isv.access-token-expired"),
        fail(50001, "dop.token-generate-failed:code-expired"),
    )
    client = make(script)
    client.refresh_token(refresh)
    errors = []
    for call in (
        lambda: client.call("order.searchList", {"page": 0}, TOKEN),
        lambda: client.create_token_code(code),
    ):
        with pytest.raises(Exception) as info:
            call()
        errors.append(repr(info.value) + str(info.value))
    signs = [dict(r.url.params)["sign"] for r in script.requests]
    text = caplog.text + "".join(errors) + repr(client)
    assert "HTTP Request" in caplog.text  # httpx did log each request, redacted
    for secret in [SECRET, TOKEN, refresh, code, "new-access-777", "new-refresh-888", *signs]:
        assert secret not in text
