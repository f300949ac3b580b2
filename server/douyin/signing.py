"""Request and push signatures of the Douyin open platform. Pure functions, no I/O.

param_json is the business parameters as JSON with keys sorted at every level (objects inside
arrays too), compact separators, UTF-8 unescaped, nulls omitted; empty parameters are "{}".
The signed string is
    app_secret + "app_key" + app_key + "method" + method + "param_json" + param_json
               + "timestamp" + timestamp + "v" + v + app_secret
signed with HMAC-SHA256 keyed by app_secret (recommended) or plain MD5 (legacy).
A push's `event-sign` header is MD5(app_key + raw body + app_secret) over the exact bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

API_VERSION = "2"


class SignMethod(StrEnum):
    HMAC_SHA256 = "hmac-sha256"
    MD5 = "md5"


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_nulls(v) for v in value]
    return value


def canonical_param_json(params: Mapping[str, Any] | None) -> str:
    """The canonical param_json of business parameters ("{}" when there are none)."""
    if not params:
        return "{}"
    return json.dumps(_drop_nulls(params), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonicalise_param_json(raw: str) -> str:
    """Re-canonicalise a received param_json (raises ValueError if it is not a JSON object)."""
    parsed = json.loads(raw) if raw.strip() else {}
    if not isinstance(parsed, dict):
        raise ValueError("param_json is not a JSON object")
    return canonical_param_json(parsed)


def sign_string(
    app_key: str, app_secret: str, method: str, param_json: str, timestamp: str, v: str = API_VERSION
) -> str:
    """The string that gets signed. access_token and sign_method are not part of it."""
    return (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v{v}{app_secret}"
    )


def sign_request(
    app_key: str,
    app_secret: str,
    method: str,
    param_json: str,
    timestamp: str,
    sign_method: SignMethod | str = SignMethod.HMAC_SHA256,
    v: str = API_VERSION,
) -> str:
    """The lowercase hex `sign` query parameter for one call."""
    text = sign_string(app_key, app_secret, method, param_json, timestamp, v).encode("utf-8")
    if SignMethod(sign_method) is SignMethod.HMAC_SHA256:
        return hmac.new(app_secret.encode("utf-8"), text, hashlib.sha256).hexdigest()
    return hashlib.md5(text).hexdigest()


def verify_request_sign(
    sign: str,
    *,
    app_key: str,
    app_secret: str,
    method: str,
    param_json: str,
    timestamp: str,
    sign_method: SignMethod | str = SignMethod.MD5,
    v: str = API_VERSION,
) -> bool:
    """True if `sign` signs param_json exactly as given (constant-time comparison)."""
    expected = sign_request(app_key, app_secret, method, param_json, timestamp, sign_method, v)
    return hmac.compare_digest(expected, (sign or "").lower())


def event_sign(app_key: str, app_secret: str, body: bytes) -> str:
    """The `event-sign` header of a push: lowercase hex MD5(app_key + raw body + app_secret)."""
    return hashlib.md5(app_key.encode("utf-8") + body + app_secret.encode("utf-8")).hexdigest()


def verify_event_sign(app_key: str, app_secret: str, body: bytes, signature: str | None) -> bool:
    """True if a push's `event-sign` header matches its exact raw body."""
    if not signature:
        return False
    return hmac.compare_digest(event_sign(app_key, app_secret, body), signature.strip().lower())
