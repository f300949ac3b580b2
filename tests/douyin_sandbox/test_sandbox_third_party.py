"""Requests shaped the way public SDKs send them, replayed with plain httpx against the sandbox.

- PyPI `doudian` 0.6: md5-free hmac, timestamp "yyyy-MM-dd HH:mm:ss" (GMT+8), param_json from
  json.dumps(sort_keys=True) with ASCII escapes, token calls carry param_json in the query AND the
  body, API calls in the body; checks `err_no == 0` in the answer.
- Official Go SDK: 10-digit timestamp, header `Content-Type: Content-Type: application/json`,
  x-open-no-old-err-code: 1, params with explicit nulls.
- Official Java SDK: 13-digit millisecond timestamp, signs a key-sorted copy but sends it unsorted.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import httpx

from server.douyin.signing import canonical_param_json, sign_request

CHINA = timezone(timedelta(hours=8))


def platform_query(config, method, signed_param_json, timestamp):
    sign = sign_request(config.app_key, config.app_secret, method, signed_param_json, timestamp)
    return {
        "app_key": config.app_key,
        "method": method,
        "timestamp": timestamp,
        "v": "2",
        "sign_method": "hmac-sha256",
        "sign": sign,
    }


def test_pypi_doudian_style(server, sandbox):
    config = sandbox.config
    timestamp = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    params = {"code": "", "grant_type": "authorization_self", "shop_id": config.shop_id}
    param_json = json.dumps(params, sort_keys=True, separators=(",", ":"))
    sign = sign_request(config.app_key, config.app_secret, "token.create", param_json, timestamp)
    url = (
        f"{server.url}/token/create?app_key={config.app_key}&method=token.create&param_json={param_json}"
        f"&timestamp={timestamp}&v=2&sign_method=hmac-sha256&sign={sign}"
    )
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    answer = httpx.post(url, content=param_json, headers=headers).json()
    assert answer["err_no"] == 0 and answer["data"]["access_token"]
    token = answer["data"]["access_token"]

    now = sandbox.shop.now()
    window = {"update_start_time": now - 86400, "update_end_time": now, "order_by": ["update_time asc"]}
    params = {**window, "page": 0, "size": 10, "note": "中文"}
    param_json = json.dumps(params, sort_keys=True, separators=(",", ":"))  # "\u4e2d\u6587": ASCII escapes
    sign = sign_request(config.app_key, config.app_secret, "afterSale.List", param_json, timestamp)
    url = (
        f"{server.url}/afterSale/List?app_key={config.app_key}&method=afterSale.List&access_token={token}"
        f"&timestamp={timestamp}&v=2&sign_method=hmac-sha256&sign={sign}"
    )
    answer = httpx.post(url, content=param_json, headers=headers).json()
    assert answer["err_no"] == 0 and "items" in answer["data"]


def test_go_sdk_style(server, sandbox):
    config = sandbox.config
    timestamp = str(int(time.time()))
    param_json = (
        '{"code":"","grant_type":"authorization_self","shop_id":' + config.shop_id + ',"auth_id":null}'
    )
    query = platform_query(config, "token.create", param_json, timestamp)
    headers = {"Content-Type": "Content-Type: application/json", "x-open-no-old-err-code": "1", "from": "sdk"}
    answer = httpx.post(
        f"{server.url}/token/create", params=query, content=param_json, headers=headers
    ).json()
    assert answer["code"] == 10000 and "err_no" not in answer


def test_java_sdk_style(server, sandbox):
    config = sandbox.config
    timestamp = str(int(time.time() * 1000))
    sent = json.dumps(
        {"shop_id": config.shop_id, "grant_type": "authorization_self", "code": ""}, separators=(",", ":")
    )
    signed = canonical_param_json(json.loads(sent))
    query = platform_query(config, "token.create", signed, timestamp)
    answer = httpx.post(f"{server.url}/token/create", params=query, content=sent).json()
    assert answer["code"] == 10000
