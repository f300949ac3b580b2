"""The Douyin shop open platform (抖店开放平台): signing, push parsing, the API client, tokens.

Pure layers: signing, push, records, errors, tokens.TokenSet. I/O: client.DouyinClient.
"""

from server.douyin.api import ShopApi
from server.douyin.client import DouyinClient
from server.douyin.errors import (
    ApiOffline,
    BusinessError,
    DouyinError,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReauthorizationRequired,
    ResultCapExceeded,
    ServiceError,
    SignatureInvalid,
    TokenExpired,
    TokenGenerationFailed,
    TransportError,
    WindowTooOld,
)
from server.douyin.push import PushFormatError, PushMessage, id_str, parse_push_body, parse_push_data
from server.douyin.records import AfterSale, AfterSalePage, InterceptTarget, OrderPage, ShopOrder
from server.douyin.signing import canonical_param_json, event_sign, sign_request, verify_event_sign
from server.douyin.tokens import AuthorizedShop, SelfBuiltShop, TokenKeeper, TokenSet, needs_refresh

__all__ = [
    "AfterSale",
    "AfterSalePage",
    "ApiOffline",
    "AuthorizedShop",
    "BusinessError",
    "DouyinClient",
    "DouyinError",
    "InterceptTarget",
    "InvalidParameter",
    "NotFound",
    "OrderPage",
    "PermissionDenied",
    "PushFormatError",
    "PushMessage",
    "RateLimited",
    "ReauthorizationRequired",
    "ResultCapExceeded",
    "SelfBuiltShop",
    "ServiceError",
    "ShopApi",
    "ShopOrder",
    "SignatureInvalid",
    "TokenExpired",
    "TokenGenerationFailed",
    "TokenKeeper",
    "TokenSet",
    "TransportError",
    "WindowTooOld",
    "canonical_param_json",
    "event_sign",
    "id_str",
    "needs_refresh",
    "parse_push_body",
    "parse_push_data",
    "sign_request",
    "verify_event_sign",
]
