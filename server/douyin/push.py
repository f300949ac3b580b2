"""Douyin push messages (消息推送): parse and build bodies. Pure functions, no I/O.

A push body is a JSON array of {"tag": "206", "msg_id": "...", "data": "<JSON string>"}.
IDs inside `data` are 19-digit integers: Python's json keeps integers exact, but a sender that
went through a float (4.835804142146756e18) has already lost digits; such values are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server import jsonbody

# 2**53: above it a float cannot hold every integer, so an id there was damaged.
_FLOAT_SAFE_LIMIT = 9_007_199_254_740_992
_DIGITS = re.compile(r"^\d{1,20}$")

ID_FIELDS = frozenset({"p_id", "s_id", "shop_id", "aftersale_id"})


class PushFormatError(ValueError):
    """A push body or its data is not what Douyin sends (or was damaged on the way)."""


def _parse_float(text: str) -> float:
    if "e" in text.lower():
        raise PushFormatError(f"数字 {text} 是指数形式：可能是被 float 编码损坏的 ID")
    value = float(text)
    if abs(value) >= _FLOAT_SAFE_LIMIT:
        raise PushFormatError(f"数字 {text} 超出 float 的精确范围：可能是被 float 编码损坏的 ID")
    return value


def loads_exact(text: str | bytes) -> Any:
    """Strict JSON (server.jsonbody) that keeps integers exact and refuses floats that may be
    damaged ids; PushFormatError (with jsonbody's zh-CN reason) for anything refused."""
    if not isinstance(text, str | bytes):
        raise PushFormatError("不是 JSON 文本")
    try:
        return jsonbody.decode(text, parse_float=_parse_float, what="内容")
    except jsonbody.JsonRefused as exc:
        raise PushFormatError(exc.message) from exc


def parse_push_data(text: str) -> dict[str, Any]:
    """Parse a message's `data` string. 19-digit ids come back as ints, exactly."""
    if not isinstance(text, str):
        raise PushFormatError("data 不是 JSON 字符串")
    parsed = loads_exact(text)
    if not isinstance(parsed, dict):
        raise PushFormatError("data 不是 JSON 对象")
    for key in ID_FIELDS & parsed.keys():
        id_str(parsed[key])  # raises on a float, a bool or garbage
    for value in parsed.get("s_ids") or []:
        id_str(value)
    return parsed


def id_str(value: int | str) -> str:
    """A Douyin id as the decimal string used everywhere in Shipgate."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PushFormatError(f"ID 类型为 {type(value).__name__}：应为整数或数字字符串")
    text = str(value)
    if not _DIGITS.match(text):
        raise PushFormatError(f"ID {text[:30]!r} 不是非负整数")
    return text


@dataclass(frozen=True)
class PushMessage:
    tag: str
    msg_id: str
    data: dict[str, Any] = field(compare=False)
    raw_data: str = field(repr=False)


def parse_push_body(body: bytes | str) -> list[PushMessage]:
    """Parse a whole push body (verify its event-sign first, over the same bytes)."""
    parsed = loads_exact(body)
    if not isinstance(parsed, list):
        raise PushFormatError("推送内容必须是 JSON 数组")
    messages = []
    for item in parsed:
        if not isinstance(item, dict) or not {"tag", "msg_id", "data"} <= item.keys():
            raise PushFormatError("推送消息缺少 tag、msg_id 或 data")
        tag, msg_id, raw = item["tag"], item["msg_id"], item["data"]
        if isinstance(tag, bool) or not isinstance(tag, str | int) or not str(tag).isdigit():
            raise PushFormatError("推送 tag 不是数字字符串")
        if isinstance(msg_id, bool) or not isinstance(msg_id, str | int) or not str(msg_id).strip():
            raise PushFormatError("推送 msg_id 为空")
        if str(tag) == "0":  # URL verification: its data is not a business message
            data = raw if isinstance(raw, dict) else {}
            messages.append(
                PushMessage("0", str(msg_id), data, raw if isinstance(raw, str) else json.dumps(raw))
            )
            continue
        messages.append(PushMessage(str(tag), str(msg_id), parse_push_data(raw), raw))
    return messages


def encode_push_data(data: Mapping[str, Any] | str) -> str:
    """A message's `data` string as Douyin sends it: compact JSON, ints as ints (a string as it is:
    the URL verification's data is an RFC 3339 time, not JSON)."""
    if isinstance(data, str):
        return data
    return json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def encode_push_body(messages: Iterable[tuple[str, str, Mapping[str, Any] | str]]) -> bytes:
    """A push body from (tag, msg_id, data) triples."""
    items = [{"tag": tag, "msg_id": msg_id, "data": encode_push_data(data)} for tag, msg_id, data in messages]
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


PUSH_OK: dict[str, Any] = {"code": 0, "msg": "success"}


def push_error(code: int, msg: str) -> dict[str, Any]:
    """The reply that tells Douyin a push was not accepted (it will be sent again)."""
    return {"code": code or 1, "msg": msg}
