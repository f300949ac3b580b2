"""The gateway's side of the calling protocol: read a call, check it, write the envelope.

Pure functions over plain values (query, form, body), so they are tested without HTTP.
- param_json comes as the raw body, a query field or a form field (SDKs differ).
- The signature may be over param_json as received or over its canonical form (the official
  Java SDK signs a sorted copy but sends the unsorted body). md5 when sign_method is absent.
- timestamp: 10-digit seconds, 13-digit milliseconds, or "yyyy-MM-dd HH:mm:ss" in GMT+8.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from server.douyin.signing import SignMethod, canonicalise_param_json, verify_request_sign

CHINA = timezone(timedelta(hours=8))
SUCCESS = 10000

MESSAGES = {
    10000: "success",
    20000: "服务不可用",
    30001: "应用权限不足",
    30002: "IP不在白名单内",
    40001: "缺少必选平台参数",
    40002: "缺少必选业务参数",
    40003: "非法的平台参数",
    40004: "非法的业务参数",
    50001: "生成令牌失败",
    50002: "业务处理失败",
    60000: "触发限流，请稍后重试",
    70000: "接口已下线",
}


class GatewayError(Exception):
    """A refusal, answered as an envelope with a non-10000 code (always HTTP 200)."""

    def __init__(self, code: int, sub_code: str = "", sub_msg: str = "", business: int | None = None) -> None:
        super().__init__(f"{code} {sub_code} {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.business = business  # the legacy err_no when it differs from code

    @classmethod
    def missing(cls, name: str) -> GatewayError:
        return cls(40002, f"isv.missing-parameter:{name}", f"缺少参数 {name}")

    @classmethod
    def invalid(cls, name: str, why: str = "") -> GatewayError:
        return cls(40004, f"isv.parameter-invalid:{name}", why or f"参数 {name} 不合法")

    @classmethod
    def parameter_invalid(cls, number: int, sub_msg: str) -> GatewayError:
        """A business error of order.* and afterSale.*: code 40004, numbered (20008 size, 20011 no
        start time, 20012 combine_status, 20013 the 50,000 cap, 20014/20001 not found, 20022 older
        than 90 days; afterSale 11000)."""
        return cls(40004, f"isv.parameter-invalid:{number}", sub_msg)

    @classmethod
    def business_failed(cls, number: int, sub_msg: str) -> GatewayError:
        """50002: on these APIs only 20015, an order of another shop."""
        return cls(50002, f"isv.business-failed:{number}", sub_msg, business=number)


@dataclass(frozen=True)
class RawCall:
    method: str
    app_key: str
    timestamp: str
    sign: str
    sign_method: str
    v: str
    access_token: str
    param_json: str = field(repr=False)


def read_call(
    path_method: str, query: Mapping[str, str], form: Mapping[str, str], body: bytes, content_type: str
) -> RawCall:
    """Gather a call's platform parameters and its param_json from wherever the SDK put them."""
    is_form = content_type.lower().startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    text = body.decode("utf-8", errors="strict").strip() if body and not is_form else ""
    param_json = text or query.get("param_json") or form.get("param_json") or "{}"

    def get(name: str) -> str:
        return str(query.get(name) or form.get(name) or "")

    query_method = get("method")
    if query_method and path_method and query_method != path_method:
        raise GatewayError.invalid("method", f"method {query_method} 与请求路径不一致")
    return RawCall(
        method=query_method or path_method,
        app_key=get("app_key"),
        timestamp=get("timestamp"),
        sign=get("sign"),
        sign_method=get("sign_method"),
        v=get("v") or "2",
        access_token=get("access_token"),
        param_json=param_json,
    )


def parse_timestamp(text: str) -> float:
    """Unix seconds from any of the three forms SDKs send (GatewayError 40003 otherwise)."""
    text = text.strip()
    if re.fullmatch(r"\d{10}", text):
        return float(text)
    if re.fullmatch(r"\d{13}", text):
        return int(text) / 1000.0
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).timestamp()
    except ValueError:
        raise GatewayError(40003, "isv.timestamp-invalid", "timestamp 格式不正确") from None


def check_call(call: RawCall, *, app_key: str, app_secret: str, now: float, skew: float) -> dict[str, Any]:
    """Verify app key, timestamp and signature; return the parsed business parameters."""
    if not call.sign:
        raise GatewayError(40001, "isv.signature-missing", "缺少签名")
    if not call.timestamp:
        raise GatewayError(40003, "isv.timestamp-invalid", "缺少 timestamp")
    if abs(parse_timestamp(call.timestamp) - now) > skew:
        raise GatewayError(40003, "isv.timestamp-invalid", "timestamp 与服务器时间相差超过10分钟")
    try:
        sign_method = SignMethod(call.sign_method or SignMethod.MD5)
    except ValueError:
        raise GatewayError(40003, "isv.signature-invalid", "不支持的 sign_method") from None
    try:
        params = json.loads(call.param_json)
    except (ValueError, RecursionError):  # nested thousands deep: refused like any bad JSON
        raise GatewayError.invalid("param_json", "param_json 不是合法的 JSON") from None
    if not isinstance(params, dict):
        raise GatewayError.invalid("param_json", "param_json 必须是 JSON 对象")
    if call.app_key != app_key or not _signed(call, app_key, app_secret, sign_method):
        raise GatewayError(40003, "isv.signature-invalid", "签名校验失败")
    return params


def _signed(call: RawCall, app_key: str, app_secret: str, sign_method: SignMethod) -> bool:
    """Signed over param_json as received, or over its canonical form."""
    candidates = {call.param_json, canonicalise_param_json(call.param_json)}
    return any(
        verify_request_sign(
            call.sign,
            app_key=app_key,
            app_secret=app_secret,
            method=call.method,
            param_json=param_json,
            timestamp=call.timestamp,
            sign_method=sign_method,
            v=call.v,
        )
        for param_json in candidates
    )


def new_log_id(now: float, rng: random.Random) -> str:
    """A log id shaped like the gateway's: time in GMT+8 then random hex."""
    stamp = datetime.fromtimestamp(now, CHINA).strftime("%Y%m%d%H%M%S")
    return f"{stamp}{rng.getrandbits(64):016X}"


def envelope(
    data: dict[str, Any] | None, log_id: str, *, legacy: bool, error: GatewayError | None = None
) -> dict[str, Any]:
    """The response body; `legacy` adds err_no/message (left out on x-open-no-old-err-code: 1)."""
    code = error.code if error else SUCCESS
    body: dict[str, Any] = {
        "code": code,
        "msg": MESSAGES.get(code, "error"),
        "sub_code": error.sub_code if error else "",
        "sub_msg": error.sub_msg if error else "",
        "data": data if data is not None else {},
        "log_id": log_id,
    }
    if legacy:
        body["err_no"] = 0 if error is None else (error.business or error.code)
        body["message"] = "success" if error is None else (error.sub_msg or body["msg"])
    return body
