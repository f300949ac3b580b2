"""The one exception tree of the Douyin client, and the mapping from a response envelope to it.

DouyinError
├── ServiceError            20000 (retry with backoff)
│   └── TransportError      no usable answer: connection, timeout, HTTP status, not JSON
│       ├── ConnectFailed   the request never left (safe to retry even for writes)
│       └── TransportTimeout / BadResponse (ambiguous: a write may have happened)
├── RateLimited             60000 (back off)
├── PermissionDenied        30001 / 30002 (alert, stop the shop)
├── PlatformParameterError  40001 / 40003 other than tokens (a bug)
│   ├── SignatureInvalid
│   └── TimestampInvalid
├── TokenExpired            40003 isv.access-token-expired / -no-existed (refresh, retry once)
├── TokenGenerationFailed   50001 (re-authorise)
│   └── ReauthorizationRequired
├── BusinessError           50002 (per API)
│   ├── InvalidParameter    40002 / 40004, e.g. 20008 page size, 20011 no start time, 20012
│   ├── ResultCapExceeded   20013 (split the window: at most 50,000 results)
│   ├── WindowTooOld        20022 (only the last 90 days)
│   ├── NotFound            20014 / 20001; afterSale.Detail: 11000
│   └── WrongShop           20015 (the only one of these sent as 50002)
order.* and afterSale.* send their business errors as 40004 isv.parameter-invalid:<n>; the
legacy 50002 isv.business-failed:<n> form of the same numbers maps the same way.
└── ApiOffline              70000 (alert)
Messages carry codes and the platform's text, never secrets, tokens or parameters.
"""

from __future__ import annotations

import re
from typing import Any

SUCCESS = 10000


class DouyinError(Exception):
    """A failed call. `code`/`sub_code`/`msg`/`log_id` are the platform's, when it answered."""

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        sub_code: str = "",
        sub_msg: str = "",
        log_id: str = "",
        method: str = "",
    ) -> None:
        self.msg = msg
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.log_id = log_id
        self.method = method
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [f"{self.method}:" if self.method else "", str(self.code) if self.code else ""]
        parts += [self.sub_code, self.sub_msg or self.msg]
        text = " ".join(p for p in parts if p)
        return f"{text} (log_id {self.log_id})" if self.log_id else text

    @property
    def business_code(self) -> int | None:
        """The number after the last ':' of sub_code (e.g. 20013), when there is one."""
        return _business_code(self.sub_code or "")


class ServiceError(DouyinError):
    pass


class TransportError(ServiceError):
    pass


class ConnectFailed(TransportError):
    pass


class TransportTimeout(TransportError):
    pass


class BadResponse(TransportError):
    pass


class RateLimited(DouyinError):
    pass


class PermissionDenied(DouyinError):
    pass


class PlatformParameterError(DouyinError):
    pass


class SignatureInvalid(PlatformParameterError):
    pass


class TimestampInvalid(PlatformParameterError):
    pass


class TokenExpired(DouyinError):
    pass


class TokenGenerationFailed(DouyinError):
    pass


class ReauthorizationRequired(TokenGenerationFailed):
    """No way left to get a token without the merchant authorising again."""


class BusinessError(DouyinError):
    pass


class InvalidParameter(BusinessError):
    pass


class ResultCapExceeded(BusinessError):
    pass


class WindowTooOld(BusinessError):
    pass


class NotFound(BusinessError):
    pass


class WrongShop(BusinessError):
    pass


class ApiOffline(DouyinError):
    pass


_BY_CODE: dict[int, type[DouyinError]] = {
    20000: ServiceError,
    30001: PermissionDenied,
    30002: PermissionDenied,
    40001: PlatformParameterError,
    40002: InvalidParameter,
    40003: PlatformParameterError,
    40004: InvalidParameter,
    50001: TokenGenerationFailed,
    50002: BusinessError,
    60000: RateLimited,
    70000: ApiOffline,
}

_BY_BUSINESS_CODE: dict[int, type[DouyinError]] = {
    20008: InvalidParameter,
    20013: ResultCapExceeded,
    20022: WindowTooOld,
    20014: NotFound,
    20001: NotFound,
    20015: WrongShop,
}

# Numbers whose meaning depends on the API (afterSale.List's 11000 is any parameter error).
_BY_METHOD_BUSINESS_CODE: dict[tuple[str, int], type[DouyinError]] = {
    ("afterSale.Detail", 11000): NotFound,
}

_BY_SUB_CODE: dict[str, type[DouyinError]] = {
    "isv.access-token-expired": TokenExpired,
    "isv.access-token-no-existed": TokenExpired,
    "isv.signature-invalid": SignatureInvalid,
    "isv.timestamp-invalid": TimestampInvalid,
}


def envelope_code(envelope: dict[str, Any]) -> int | None:
    """The envelope's code; a legacy-only envelope (err_no 0) counts as success."""
    code = envelope.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if envelope.get("err_no") == 0:
        return SUCCESS
    return None


def _business_code(sub_code: str) -> int | None:
    match = re.search(r":(\d+)$", sub_code)
    return int(match.group(1)) if match else None


def error_class(code: int | None, sub_code: str, method: str = "") -> type[DouyinError]:
    """Which exception a (code, sub_code) pair of `method` raises."""
    if sub_code in _BY_SUB_CODE:
        return _BY_SUB_CODE[sub_code]
    business = _business_code(sub_code)
    if code in (50002, 40004, None) and (method, business) in _BY_METHOD_BUSINESS_CODE:
        return _BY_METHOD_BUSINESS_CODE[(method, business)]
    if code in (50002, 40002, 40004, None) and business in _BY_BUSINESS_CODE:
        return _BY_BUSINESS_CODE[business]
    if code in _BY_BUSINESS_CODE:  # a legacy err_no carrying the business number
        return _BY_BUSINESS_CODE[code]
    return _BY_CODE.get(code or 0, DouyinError)


def error_from_envelope(envelope: dict[str, Any], method: str = "") -> DouyinError:
    """The exception for a failed envelope (call only when the code is not 10000)."""
    code = envelope_code(envelope)
    if code is None and isinstance(envelope.get("err_no"), int):
        code = envelope["err_no"]
    sub_code = str(envelope.get("sub_code") or "")
    return error_class(code, sub_code, method)(
        str(envelope.get("msg") or envelope.get("message") or ""),
        code=code,
        sub_code=sub_code,
        sub_msg=str(envelope.get("sub_msg") or ""),
        log_id=str(envelope.get("log_id") or ""),
        method=method,
    )


def data_or_raise(envelope: dict[str, Any], method: str = "") -> dict[str, Any]:
    """The envelope's data on success (code 10000), else raise the mapped exception."""
    if envelope_code(envelope) == SUCCESS:
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}
    raise error_from_envelope(envelope, method)
