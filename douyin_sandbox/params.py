"""Reading business parameters the way the gateway does: typed, with the platform's errors."""

from __future__ import annotations

from typing import Any

from douyin_sandbox.protocol import GatewayError


def get_int(
    params: dict[str, Any], name: str, *, default: int | None = None, minimum: int | None = None
) -> int | None:
    """An integer (or a digit string); None/absent gives `default`."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GatewayError.invalid(name, f"{name} 必须是整数")
    try:
        number = int(value)
    except ValueError:
        raise GatewayError.invalid(name, f"{name} 必须是整数") from None
    if minimum is not None and number < minimum:
        raise GatewayError.invalid(name, f"{name} 不能小于 {minimum}")
    return number


def require_int(params: dict[str, Any], name: str, *, minimum: int | None = None) -> int:
    number = get_int(params, name, minimum=minimum)
    if number is None:
        raise GatewayError.missing(name)
    return number


def get_id(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """An id sent as a digit string or an integer."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise GatewayError.missing(name)
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise GatewayError.invalid(name, f"{name} 必须是数字ID")
    return str(value).strip()


def get_str(params: dict[str, Any], name: str, *, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise GatewayError.invalid(name)
    return str(value)


def get_bool(params: dict[str, Any], name: str, *, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise GatewayError.invalid(name, f"{name} 必须是布尔值")


def get_list(params: dict[str, Any], name: str) -> list[Any] | None:
    """A JSON array, or a comma-separated string."""
    value = params.get(name)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return value
    raise GatewayError.invalid(name, f"{name} 必须是数组")


def get_int_set(params: dict[str, Any], name: str) -> set[int] | None:
    values = get_list(params, name)
    if values is None:
        return None
    try:
        return {int(v) for v in values if not isinstance(v, bool)}
    except (TypeError, ValueError):
        raise GatewayError.invalid(name) from None


def csv_ints(text: str | None, name: str) -> set[int] | None:
    """ "2,3" -> {2, 3} (combine_status values)."""
    if not text:
        return None
    try:
        return {int(v) for v in str(text).split(",") if v.strip()}
    except ValueError:
        raise GatewayError.invalid(name) from None
