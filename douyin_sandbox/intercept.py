"""afterSale.applyLogisticsIntercept: which parcels a courier can still stop.

A parcel on the way can be intercepted (once); an order not shipped, a parcel already signed for,
a tracking number of another order or a company code that does not match cannot.
"""

from __future__ import annotations

from typing import Any

from douyin_sandbox.model import Order, Parcel, ParcelState


def _refusal(order: Order, parcel: Parcel | None, company_code: str) -> str:
    if parcel is None:
        return "订单未发货，无需拦截" if not order.parcels else "运单号不属于该售后单的订单"
    if company_code and company_code != parcel.carrier.code:
        return "物流公司与运单号不匹配"
    if parcel.state == ParcelState.DELIVERED:
        return "包裹已签收，无法拦截"
    if parcel.state == ParcelState.INTERCEPTED:
        return "已申请拦截，请勿重复申请"
    return ""


def intercept_parcels(order: Order, targets: list[dict[str, Any]], now: int) -> dict[str, Any]:
    """Intercept what can be; the response data of the API."""
    results = []
    for target in targets:
        code = str(target.get("tracking_no") or "").strip().upper()
        parcel = next((p for p in order.parcels if p.tracking_no == code), None)
        reason = _refusal(order, parcel, str(target.get("company_code") or ""))
        cost = 0
        if parcel is not None and not reason:
            parcel.state, parcel.state_time = ParcelState.INTERCEPTED, now
            cost = parcel.carrier.intercept_cost
        results.append(
            {
                "tracking_no": code,
                "can_intercept": not reason,
                "is_success": not reason,
                "unavailable_reason": reason,
                "intercept_cost": cost,
            }
        )
    succeeded = sum(1 for r in results if r["is_success"])
    return {
        "intercept_results": results,
        "success_count": succeeded,
        "failed_count": len(results) - succeeded,
    }
