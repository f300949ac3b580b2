"""afterSale.List, afterSale.Detail and afterSale.applyLogisticsIntercept (call under the shop's lock).

afterSale.List orders by `order_by` (["update_time asc"] is what a poller must send); without it
the sandbox returns newest applications first, so a poller that forgets it sees records move.
"""

from __future__ import annotations

from typing import Any

from douyin_sandbox import render
from douyin_sandbox.model import AfterSaleRecord
from douyin_sandbox.params import get_id, get_int, get_int_set, get_list
from douyin_sandbox.protocol import GatewayError
from douyin_sandbox.shop import SandboxShop

_SORT_FIELDS = {"update_time": "update_time", "apply_time": "apply_time", "status_deadline": "apply_time"}


def _order_by(params: dict[str, Any]) -> tuple[str, bool]:
    """(field, ascending) from order_by like ["update_time asc"]; default apply_time desc."""
    clauses = get_list(params, "order_by") or ["apply_time desc"]
    words = str(clauses[0]).split()
    if (
        not words
        or words[0] not in _SORT_FIELDS
        or (len(words) > 1 and words[1].lower() not in ("asc", "desc"))
    ):
        raise GatewayError.invalid("order_by", 'order_by 形如 "update_time asc"')
    return _SORT_FIELDS[words[0]], len(words) > 1 and words[1].lower() == "asc"


def _candidates(shop: SandboxShop, params: dict[str, Any]) -> list[AfterSaleRecord] | None:
    """Records narrowed by an id filter, or None when no id filter was given."""
    aftersale_id = get_id(params, "aftersale_id")
    if aftersale_id is not None:
        record = shop.aftersales.get(aftersale_id)
        return [record] if record else []
    order_id = get_id(params, "order_id")
    tracking = get_list(params, "order_logistics_tracking_no")
    orders = []
    if order_id is not None:
        orders = [shop.orders[order_id]] if order_id in shop.orders else []
    elif tracking:
        orders = [o for o in (shop.order_for_tracking(str(t)) for t in tracking) if o is not None]
    else:
        return None
    ids = [a for o in orders for a in shop.aftersales_of_order.get(o.order_id, [])]
    return [shop.aftersales[i] for i in ids]


def list_aftersales(shop: SandboxShop, params: dict[str, Any]) -> dict[str, Any]:
    config = shop.config
    page = get_int(params, "page", default=0, minimum=0) or 0
    size = get_int(params, "size", default=10, minimum=1) or 10
    if size > config.max_page_size:
        raise GatewayError.parameter_invalid(11000, f"参数错误：size 最多 {config.max_page_size}")
    if page * size > config.aftersale_page_cap:
        raise GatewayError.parameter_invalid(11000, f"参数错误：page*size 最多 {config.aftersale_page_cap}")
    start = get_int(params, "update_start_time", minimum=0)
    end = get_int(params, "update_end_time", minimum=0)
    apply_start = get_int(params, "start_time", minimum=0)
    apply_end = get_int(params, "end_time", minimum=0)
    aftersale_type = get_int(params, "aftersale_type")
    statuses = get_int_set(params, "standard_aftersale_status")
    field, ascending = _order_by(params)
    candidates = _candidates(shop, params)

    plain = candidates is None and aftersale_type is None and statuses is None
    if plain and apply_start is None and apply_end is None and field == "update_time":
        total, ids = shop.aftersales_by_update.page(start, end, page * size, size, descending=not ascending)
        records = [shop.aftersales[i] for i in ids]
    elif plain and start is None and end is None and field == "apply_time":
        total, ids = shop.aftersales_by_apply.page(
            apply_start, apply_end, page * size, size, descending=not ascending
        )
        records = [shop.aftersales[i] for i in ids]
    else:
        if candidates is None:
            candidates = [shop.aftersales[i] for i in shop.aftersales_by_update.window(start, end)]
        matching = [
            r
            for r in candidates
            if (start is None or r.update_time >= start)
            and (end is None or r.update_time <= end)
            and (apply_start is None or r.apply_time >= apply_start)
            and (apply_end is None or r.apply_time <= apply_end)
            and (aftersale_type is None or r.aftersale_type == aftersale_type)
            and (statuses is None or r.status in statuses)
        ]
        matching.sort(key=lambda r: (getattr(r, field), r.aftersale_id), reverse=not ascending)
        total, records = len(matching), matching[page * size : (page + 1) * size]
    return {
        "items": [render.aftersale_item(r, shop.orders[r.order_id]) for r in records],
        "has_more": page * size + len(records) < total,
        "total": total,
        "page": page,
        "size": size,
    }


def _record(shop: SandboxShop, params: dict[str, Any]) -> AfterSaleRecord:
    aftersale_id = get_id(params, "after_sale_id", required=True)
    record = shop.aftersales.get(str(aftersale_id))
    if record is None:
        raise GatewayError.parameter_invalid(11000, "参数错误，售后单ID错误")
    return record


def aftersale_detail(shop: SandboxShop, params: dict[str, Any]) -> dict[str, Any]:
    record = _record(shop, params)
    return render.aftersale_detail(record, shop.orders[record.order_id])


def apply_logistics_intercept(shop: SandboxShop, params: dict[str, Any]) -> dict[str, Any]:
    """after_sale_id, op_from (1 merchant, 3 customer service) and intercept_targets, each target
    with a tracking_no and a non-empty company_code, are all required."""
    record = _record(shop, params)
    if get_int(params, "op_from") not in (1, 3):
        raise (
            GatewayError.missing("op_from")
            if params.get("op_from") is None
            else GatewayError.invalid("op_from")
        )
    targets = params.get("intercept_targets")
    if not targets:
        raise GatewayError.missing("intercept_targets")
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise GatewayError.invalid("intercept_targets", "intercept_targets 必须是对象数组")
    for i, target in enumerate(targets):
        for name in ("tracking_no", "company_code"):
            if not isinstance(target.get(name), str) or not target[name].strip():
                raise GatewayError.invalid(
                    f"intercept_targets[{i}].{name}", f"intercept_targets[{i}].{name} 不能为空"
                )
    return shop.intercept(record.aftersale_id, targets)
