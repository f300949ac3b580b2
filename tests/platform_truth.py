"""What the gate should say about a sandbox order, computed from the sandbox's own state (the
platform's truth) independently of server.decision. Shared by the sync tests and the soak."""

from __future__ import annotations


def expected(shop, order) -> tuple[str, str]:
    refunded, pending = set(), set()
    for a in shop.aftersales.values():
        if a.order_id != order.order_id or a.aftersale_type not in (0, 1, 2):
            continue
        if a.status == 12 or a.refund_status == 3:
            refunded.add(a.sku_order_id)
        elif a.status not in (27, 28, 29) and a.refund_status != 4:
            pending.add(a.sku_order_id)
    skus = {s.sku_order_id for s in order.skus}
    if order.main_status in (21, 22, 39) or refunded >= skus:
        return ("BLOCK", "refunded")
    if order.order_status == 4:
        return ("BLOCK", "cancelled")
    if pending - refunded:
        return ("HOLD", "refund_pending")
    if refunded:
        return ("HOLD", "partial_refund")
    return ("PASS", "clear")
