"""Ask the courier to stop an incident's parcel: Douyin's afterSale.applyLogisticsIntercept.

The call needs an after-sale id of the order and the parcel's tracking number. Douyin wants the
courier's company code with it; we ask afterSale.List for the code of that tracking number and
send an empty one if it does not say. Whatever the answer, it is recorded as a step: a success
moves the incident on and books the courier's interception fee as return freight; a refusal
(can_intercept false, with Douyin's reason) or an error leaves it where it was.
"""

from __future__ import annotations

import logging
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


def company_code(api: ShopApi, aftersale_id: str, tracking_no: str) -> str:
    """The courier's company code Douyin has for this parcel, or ''."""
    try:
        page = api.list_aftersales(aftersale_id=aftersale_id, size=10)
    except DouyinError as exc:
        log.info("no company code for %s: %s", tracking_no, exc)
        return ""
    for item in page.items:
        info = item.raw.get("aftersale_info", item.raw)
        for parcel in info.get("order_logistics") or ():
            if str(parcel.get("tracking_no", "")).upper() == tracking_no.upper():
                return str(parcel.get("company_code") or "")
    return ""


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
        code = company_code(api, incident.aftersale_id, tracking_no)
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
