"""An order's whole story, and search by anything printed on a parcel or packing list."""

from __future__ import annotations

import re

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from server.console import queries
from server.db import get_session

bp = Blueprint("orders", __name__)

ORDER_ID = re.compile(r"^\d{19}$")


@bp.get("/orders/<order_id>")
def order(order_id: str):
    """Sku orders, after-sales, waybills, the gate entry, every scan and every exception (of the
    user's warehouse: an order of another warehouse is a 404, as if it did not exist)."""
    if not ORDER_ID.match(order_id):
        abort(404)
    story = queries.order_story(get_session(), order_id, g.user.warehouse_id)
    if story is None:
        abort(404)
    return render_template("console/order.html", story=story)


@bp.get("/search")
def search():
    """Find an order by order id, sku order id or tracking number, or an exception by its slip QR.

    A barcode scanner in keyboard mode types into the (autofocused) box and presses Enter."""
    query = request.args.get("q", "")
    if not query.strip():
        return render_template("console/search.html", result=None)
    result = queries.search(get_session(), query, g.user.warehouse_id)
    if result.exception_id is not None:
        return redirect(url_for("console.queue.exception", exception_id=result.exception_id))
    if len(result.order_ids) == 1:
        return redirect(url_for(".order", order_id=result.order_ids[0]))
    return render_template("console/search.html", result=result)
