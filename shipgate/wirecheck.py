"""Checking JSON values against the wire contract (shipgate.wire): one error type that names the
field, and the small checks every body's `from_json` is made of. Standard library only."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class WireError(ValueError):
    """A body that does not follow the contract: `field` says where ("scans[3].code"), `message`
    why (zh-CN), `error` the machine code of the 4xx answer."""

    def __init__(self, field: str, message: str, error: str = "invalid_field"):
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message, self.error = field, message, error


def where_of(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def json_object(data: Any, where: str) -> dict:
    if not isinstance(data, dict):
        raise WireError(where, f"{where or '请求'} 必须是 JSON 对象")
    return data


def expect_fields(data: dict, *, required=frozenset(), optional=frozenset(), where: str = "") -> None:
    """Refuse unknown fields and missing ones, each by name."""
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        name = where_of(where, unknown[0])
        raise WireError(name, f"未知字段：{name}", "unknown_field")
    missing = sorted(set(required) - set(data))
    if missing:
        name = where_of(where, missing[0])
        raise WireError(name, f"缺少字段：{name}", "missing_field")


def clean_text(value: object) -> bool:
    """A string a database can store: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: Any, name: str, *, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not clean_text(value) or len(value) > limit:
        raise WireError(name, f"{name} 必须是不超过 {limit} 个字符的字符串（不含 NUL）")
    return value


def integer(value: Any, name: str, *, optional: bool = False, minimum: int | None = 0) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        raise WireError(name, f"{name} 必须是非负整数")
    return value


def number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise WireError(name, f"{name} 必须是数字")
    return value


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise WireError(name, f"{name} 必须是 true 或 false")
    return value


def strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WireError(name, f"{name} 必须是字符串数组")
    return tuple(value)


def parse_time(value: Any, name: str) -> datetime:
    """An ISO 8601 time with its zone ("Z" allowed), in a plausible year."""
    if not isinstance(value, str) or len(value) > 40:
        raise WireError(name, f"{name} 必须是 ISO 8601 时间字符串")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise WireError(name, f"{name} 不是有效的 ISO 8601 时间") from exc
    if parsed.tzinfo is None:
        raise WireError(name, f"{name} 必须带时区")
    if not 2000 <= parsed.year <= 2999:
        raise WireError(name, f"{name} 的年份不合理")
    return parsed


def order_id(value: Any, name: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise WireError(name, f"{name} 必须是字符串")
    return value
