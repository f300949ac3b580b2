"""Every JSON body the server accepts is decoded here, strictly, with one set of refusals.

Pure over bytes (no Flask): the station API and the Douyin push receiver call `decode`, and the
push parser decodes each message's `data` string with it too. Refused, each with its own error
code and a zh-CN message, before anything is stored:
- not UTF-8, or a byte-order mark in front (JSON text is UTF-8 without one, RFC 8259);
- nesting deeper than `max_depth` (checked before parsing: the parser recurses, and thousands of
  `[` would otherwise end in RecursionError, a 500);
- the same key twice in one object (parsers disagree on which one wins);
- NaN, Infinity, numbers a float cannot hold, integers longer than Python's digit limit;
- anything that is not JSON at all, and a top-level value of the wrong kind (`expect`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32  # the deepest body Shipgate expects is a batch: object > list > object > value

# A JSON string (escapes included), so that brackets inside strings are not counted.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_KEEP_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


class JsonRefused(ValueError):
    """A body that is not the JSON we accept: `error` is the API's error code, `message` zh-CN."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in `text`, outside strings (an upper bound when the text is
    not JSON). No recursion, no Python loop per character."""
    stripped = _STRING.sub("", text).encode("utf-8", "surrogatepass")
    steps = stripped.translate(_KEEP_BRACKETS, _NOT_BRACKETS)  # 2 for an opening bracket, 0 for a closing
    return max(accumulate(map((-1).__add__, steps)), default=0)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise JsonRefused("duplicate_key", f"JSON 对象中有重复的键：{duplicate[:40]}")
    return result


def _constant(name: str) -> Any:
    raise JsonRefused("malformed_json", f"JSON 中不允许 {name}")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("number_out_of_range", f"数字超出范围：{text[:40]}")
    return value


def decode(
    raw: bytes | str,
    *,
    expect: type | tuple[type, ...] | None = None,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    what: str = "请求体",
) -> Any:
    """The JSON value of `raw`, or JsonRefused. `expect` is the top-level type wanted (dict, list);
    `parse_float` may refuse more (it should still refuse what `_float` does); `what` names the
    thing in messages ("请求体", "推送内容")."""
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            raise JsonRefused("malformed_json", f"{what}不能以 BOM 开头")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("malformed_json", f"{what}不是有效的 UTF-8 文本") from None
    else:
        text = raw
        if text.startswith("\ufeff"):
            raise JsonRefused("malformed_json", f"{what}不能以 BOM 开头")
    if not text.strip():
        raise JsonRefused("malformed_json", f"{what}为空")
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JsonRefused("json_too_deep", f"{what}的 JSON 嵌套过深（最多 {max_depth} 层）")
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=parse_float or _float
        )
    except JsonRefused:
        raise
    except RecursionError:  # cannot happen after the depth check; refused all the same
        raise JsonRefused("json_too_deep", f"{what}的 JSON 嵌套过深") from None
    except json.JSONDecodeError:
        raise JsonRefused("malformed_json", f"{what}不是有效的 JSON") from None
    except ValueError as exc:
        if type(exc) is not ValueError:  # the caller's parse_float refused a number: its own words
            raise
        if "digits" in str(exc):  # int() over sys.get_int_max_str_digits()
            raise JsonRefused("number_out_of_range", f"{what}中的整数位数过多") from None
        raise JsonRefused("malformed_json", f"{what}不是有效的 JSON") from None
    if expect is not None and (not isinstance(value, expect) or isinstance(value, bool)):
        kind = "数组" if expect is list else "对象"
        raise JsonRefused("malformed_json", f"{what}必须是 JSON {kind}")
    return value
