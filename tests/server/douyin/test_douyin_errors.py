"""The envelope -> exception mapping."""

from __future__ import annotations

import pytest

from server.douyin import errors as e


def env(code, sub_code="", msg="m", log_id="L1"):
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": "", "data": {}, "log_id": log_id}


@pytest.mark.parametrize(
    ("code", "sub_code", "cls"),
    [
        (20000, "isp.service-error:1000", e.ServiceError),
        (60000, "isv.traffic-limited", e.RateLimited),
        (60000, "isp.traffic-limited:3", e.RateLimited),
        (30001, "isv.app-permissions-insufficient", e.PermissionDenied),
        (30002, "", e.PermissionDenied),
        (40001, "isv.access-token-missing", e.PlatformParameterError),
        (40003, "isv.access-token-expired", e.TokenExpired),
        (40003, "isv.access-token-no-existed", e.TokenExpired),
        (40003, "isv.signature-invalid", e.SignatureInvalid),
        (40003, "isv.timestamp-invalid", e.TimestampInvalid),
        (40002, "isv.missing-parameter:page", e.InvalidParameter),
        (40004, "isv.parameter-invalid:size", e.InvalidParameter),
        (50001, "dop.token-generate-failed:code-expired", e.TokenGenerationFailed),
        (50002, "isv.business-failed:20013", e.ResultCapExceeded),
        (50002, "isv.business-failed:20022", e.WindowTooOld),
        (50002, "isv.business-failed:20014", e.NotFound),
        (50002, "isv.business-failed:20001", e.NotFound),
        (50002, "isv.business-failed:20008", e.InvalidParameter),
        (50002, "isv.business-failed:99999", e.BusinessError),
        (70000, "isp.api-service-off", e.ApiOffline),
        (12345, "", e.DouyinError),
    ],
)
def test_mapping(code, sub_code, cls):
    error = e.error_from_envelope(env(code, sub_code), "order.searchList")
    assert type(error) is cls
    assert (error.code, error.sub_code, error.log_id, error.method) == (
        code,
        sub_code,
        "L1",
        "order.searchList",
    )


@pytest.mark.parametrize(
    "method, code, sub_code, cls",
    [  # as the official SDKs' error tables give them (the 40004 form is what the platform sends)
        ("order.searchList", 40004, "isv.parameter-invalid:20008", e.InvalidParameter),
        ("order.searchList", 40004, "isv.parameter-invalid:20011", e.InvalidParameter),
        ("order.searchList", 40004, "isv.parameter-invalid:20012", e.InvalidParameter),
        ("order.searchList", 40004, "isv.parameter-invalid:20013", e.ResultCapExceeded),
        ("order.searchList", 40004, "isv.parameter-invalid:20022", e.WindowTooOld),
        ("order.orderDetail", 40004, "isv.parameter-invalid:20014", e.NotFound),
        ("order.orderDetail", 40004, "isv.parameter-invalid:20001", e.NotFound),
        ("order.orderDetail", 50002, "isv.business-failed:20015", e.WrongShop),
        ("afterSale.Detail", 40004, "isv.parameter-invalid:11000", e.NotFound),
        ("afterSale.List", 40004, "isv.parameter-invalid:11000", e.InvalidParameter),
        ("afterSale.applyLogisticsIntercept", 40004, "isv.parameter-invalid:11000", e.InvalidParameter),
    ],
)
def test_mapping_of_the_platforms_business_errors(method, code, sub_code, cls):
    error = e.error_from_envelope(env(code, sub_code), method)
    assert type(error) is cls and error.method == method


def test_tree():
    assert issubclass(e.TransportError, e.ServiceError)
    assert issubclass(e.ConnectFailed, e.TransportError)
    assert issubclass(e.InvalidParameter, e.BusinessError)
    assert issubclass(e.ReauthorizationRequired, e.TokenGenerationFailed)
    assert not issubclass(e.TokenExpired, e.PlatformParameterError)


def test_legacy_envelope():
    assert e.data_or_raise({"err_no": 0, "message": "success", "data": {"x": 1}}) == {"x": 1}
    with pytest.raises(e.NotFound):
        e.data_or_raise({"err_no": 20014, "message": "订单不存在"})


def test_success_and_message():
    assert e.data_or_raise(env(10000)) == {}
    error = e.error_from_envelope(
        env(50002, "isv.business-failed:20013", "业务处理失败", "LOG9"), "order.searchList"
    )
    assert str(error) == "order.searchList: 50002 isv.business-failed:20013 业务处理失败 (log_id LOG9)"
    assert error.business_code == 20013
