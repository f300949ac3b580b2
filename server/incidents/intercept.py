"""Ask the courier to stop an incident's parcel: Douyin's afterSale.applyLogisticsIntercept.

The call needs an after-sale id of the order, the parcel's tracking number and the courier's
company code (Douyin refuses an empty one). The code comes from the waybill Shipgate knows when it
holds a code (`zhongtong`, not a name like 中通快递 or a push's numeric id), else from the order's
logistics_info (order.orderDetail), else from the after-sale's order_logistics (afterSale.List).
When Douyin answers but names no code, nothing is sent and the lead is told why (WorkflowError).
Whatever Douyin answers to the request is recorded as a step: a success moves the incident on and
books the courier's interception fee as return freight; a refusal (can_intercept false, with
Douyin's reason) or an error (also of the look-ups) leaves it where it was.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.douyin.api import ShopApi
from server.douyin.errors import DouyinError
from server.douyin.records import InterceptTarget
from server.incidents import detect
from server.incidents.workflow import Action, WorkflowError, next_state, step
from server.models.incidents import Incident

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InterceptReport:
    tracking_no: str
    can_intercept: bool = False
    is_success: bool = False
    unavailable_reason: str = ""
    intercept_cost: int = 0  # fen
    error: str | None = None

    def as_detail(self) -> dict:
        return {
            "tracking_no": self.tracking_no,
            "can_intercept": self.can_intercept,
            "is_success": self.is_success,
            "unavailable_reason": self.unavailable_reason,
            "intercept_cost": self.intercept_cost,
            "error": self.error,
        }


_COMPANY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")  # Douyin's logistics company codes: zhongtong, jd


def known_code(company: str) -> str | None:
    """The waybill's company when it is a Douyin company code (not a name, not a numeric id)."""
    return company if _COMPANY_CODE.match(company or "") else None


def company_code(api: ShopApi, incident: Incident, tracking_no: str) -> str | None:
    """The courier's company code for this parcel, or None when Douyin names none. Raises the
    last DouyinError when neither look-up could ask Douyin."""
    code = known_code(incident.company)
    if code:
        return code
    wanted, failures = tracking_no.upper(), []
    try:
        order = api.order_detail(incident.order_id)
        for parcel in order.parcels:
            if parcel.tracking_no.upper() == wanted and known_code(parcel.company):
                return parcel.company
    except DouyinError as exc:
        log.info("order.orderDetail gave no company code for %s: %s", tracking_no, exc)
        failures.append(exc)
    try:
        page = api.list_aftersales(aftersale_id=incident.aftersale_id, size=10)
    except DouyinError as exc:
        log.info("afterSale.List gave no company code for %s: %s", tracking_no, exc)
        failures.append(exc)
        page = None
    for item in page.items if page else ():
        info = item.raw.get("aftersale_info", item.raw)
        for parcel in info.get("order_logistics") or ():
            found = str(parcel.get("company_code") or "")
            if str(parcel.get("tracking_no", "")).upper() == wanted and known_code(found):
                return found
    if len(failures) == 2:
        raise failures[-1]
    return None


def request_interception(
    session: Session, incident: Incident, api: ShopApi, *, actor: str, now: datetime
) -> InterceptReport:
    """Call Douyin and record the answer as a step (the caller commits either way)."""
    next_state(incident, Action.INTERCEPT)  # refuses before calling anyone
    detect.complete(session, incident)
    if not incident.aftersale_id:
        raise WorkflowError("没有售后单号，无法在抖店申请拦截")
    if not incident.tracking_no:
        raise WorkflowError("没有运单号，无法申请拦截")
    tracking_no = incident.tracking_no
    try:
        code = company_code(api, incident, tracking_no)
        if code is None:
            raise WorkflowError(
                f"抖店没有运单 {tracking_no} 的快递公司编码（订单物流信息和售后单中都没有），"
                "无法在抖店申请拦截；请联系快递公司或在抖店后台处理"
            )
        outcome = api.apply_logistics_intercept(incident.aftersale_id, [InterceptTarget(code, tracking_no)])
    except DouyinError as exc:
        report = InterceptReport(tracking_no, error=str(exc)[:300])
    else:
        found = next((r for r in outcome.results if r.tracking_no.upper() == tracking_no.upper()), None)
        if found is None:
            report = InterceptReport(tracking_no, error="抖店未返回该运单的拦截结果")
        else:
            report = InterceptReport(
                tracking_no,
                found.can_intercept,
                found.is_success,
                found.unavailable_reason,
                found.intercept_cost,
            )
    changes = (
        {"return_freight": incident.return_freight + report.intercept_cost} if report.is_success else None
    )
    step(
        session,
        incident,
        Action.INTERCEPT,
        actor=actor,
        now=now,
        move=report.is_success,
        changes=changes,
        detail=report.as_detail(),
    )
    return report
