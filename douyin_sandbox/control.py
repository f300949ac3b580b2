"""Plain-JSON control endpoints under /sandbox/ (no signature): make things happen in the shop.

Errors are {"error": <code>, "message": <text>}: 404 unknown id, 409 a change the platform would
not make, 400 bad input.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from douyin_sandbox import render
from douyin_sandbox.catalog import PRODUCTS
from douyin_sandbox.generate import bulk_aftersales
from douyin_sandbox.runtime import Sandbox
from douyin_sandbox.shop import TransitionError

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")

_PRODUCTS_BY_ID = {p.product_id: p for p in PRODUCTS}


def _sandbox() -> Sandbox:
    return current_app.extensions["douyin_sandbox"]


def _body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True) if request.get_data() else {}
    except RecursionError:  # nested thousands deep
        body = None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


@bp.errorhandler(KeyError)
def _not_found(exc: KeyError) -> Any:
    return jsonify(error="not_found", message=f"no such record: {exc.args[0] if exc.args else ''}"), 404


@bp.errorhandler(TransitionError)
def _conflict(exc: TransitionError) -> Any:
    return jsonify(error="invalid_transition", message=str(exc)), 409


@bp.errorhandler(ValueError)
@bp.errorhandler(TypeError)
def _bad_request(exc: Exception) -> Any:
    return jsonify(error="bad_request", message=str(exc)), 400


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Any:
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


def _order_json(order_id: str) -> dict[str, Any]:
    shop = _sandbox().shop
    return render.shop_order(shop.order(order_id), shop.aftersales)


def _aftersale_json(aftersale_id: str) -> dict[str, Any]:
    shop = _sandbox().shop
    record = shop.aftersale(aftersale_id)
    return render.aftersale_item(record, shop.orders[record.order_id])


@bp.get("/")
def info() -> Any:
    """Who this sandbox is (the secret is not shown here: it was printed at start)."""
    sb = _sandbox()
    with sb.shop.lock:
        return jsonify(
            app_key=sb.config.app_key,
            shop_id=sb.config.shop_id,
            shop_name=sb.config.shop_name,
            now=sb.shop.now(),
            orders=len(sb.shop.orders),
            aftersales=len(sb.shop.aftersales),
            push_url=sb.pusher.url,
        )


@bp.get("/auth_code")
def auth_code() -> Any:
    """An auth code for token.create with grant_type authorization_code (single use, 10 minutes)."""
    sb = _sandbox()
    return jsonify(code=sb.mint_auth_code(), expires_in=sb.config.auth_code_ttl)


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Any:
    """Set fault switches (see faults.py); {"expire_tokens": true} expires every token now; {"reset": true}."""
    sb = _sandbox()
    if request.method == "POST":
        body = _body()
        expired = sb.expire_tokens() if body.pop("expire_tokens", False) else None
        if body.pop("reset", False):
            sb.faults.reset()
        settings = sb.faults.update(body)
        return jsonify(faults=vars(settings), expired_tokens=expired)
    return jsonify(faults=vars(sb.faults.snapshot()))


@bp.post("/tokens/expire")
def expire_tokens() -> Any:
    return jsonify(expired_tokens=_sandbox().expire_tokens())


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Any:
    """GET the business clock; POST {"advance": seconds} to move it forward."""
    shop = _sandbox().shop
    if request.method == "POST":
        seconds = _body().get("advance", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("advance must be a non-negative number of seconds")
        shop.advance_clock(seconds)
    return jsonify(now=shop.now())


@bp.get("/orders")
def list_orders() -> Any:
    """Recent orders, optionally ?order_status=2 and ?limit=N (newest first)."""
    shop = _sandbox().shop
    wanted = request.args.get("order_status", type=int)
    limit = min(request.args.get("limit", default=50, type=int) or 50, 1000)
    with shop.lock:
        ids = shop.orders_by_create.window(None, None)[::-1]
        orders = [shop.orders[i] for i in ids if wanted is None or shop.orders[i].order_status == wanted]
        return jsonify(orders=[render.shop_order(o, shop.aftersales) for o in orders[:limit]])


@bp.post("/orders")
def create_order() -> Any:
    """{"n_skus": 1-3} or {"products": [{"product_id": "...", "item_num": 1}]}; both optional."""
    body, shop = _body(), _sandbox().shop
    products = None
    if body.get("products"):
        products = [
            (_PRODUCTS_BY_ID[str(p["product_id"])], int(p.get("item_num", 1))) for p in body["products"]
        ]
    n_skus = body.get("n_skus")
    if n_skus is not None and (not isinstance(n_skus, int) or not 1 <= n_skus <= 3):
        raise ValueError("n_skus must be 1, 2 or 3")
    with shop.lock:
        order = shop.create_order(products, n_skus=n_skus)
        return jsonify(_order_json(order.order_id)), 201


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Any:
    with _sandbox().shop.lock:
        return jsonify(_order_json(order_id))


@bp.post("/orders/<order_id>/<action>")
def order_action(order_id: str, action: str) -> Any:
    """ship {carrier, tracking_no, sku_order_ids, force} | cancel {reason} | deliver | refund
    {sku_order_id, aftersale_type, amount} (answers the new after-sale)."""
    body, shop = _body(), _sandbox().shop
    with shop.lock:
        if action == "ship":
            shop.ship(
                order_id,
                carrier=body.get("carrier"),
                tracking_no=body.get("tracking_no"),
                sku_order_ids=body.get("sku_order_ids"),
                force=bool(body.get("force")),
            )
        elif action == "cancel":
            shop.cancel(order_id, reason=str(body.get("reason") or "买家取消订单"))
        elif action == "deliver":
            shop.deliver(order_id)
        elif action == "refund":
            record = shop.apply_refund(
                order_id,
                sku_order_id=body.get("sku_order_id"),
                aftersale_type=body.get("aftersale_type"),
                amount=body.get("amount"),
            )
            return jsonify(_aftersale_json(record.aftersale_id)), 201
        else:
            raise KeyError(f"action {action}")
        return jsonify(_order_json(order_id))


@bp.get("/aftersales/<aftersale_id>")
def get_aftersale(aftersale_id: str) -> Any:
    with _sandbox().shop.lock:
        return jsonify(_aftersale_json(aftersale_id))


@bp.post("/aftersales/<aftersale_id>/<action>")
def aftersale_action(aftersale_id: str, action: str) -> Any:
    """agree | refuse | succeed (refund paid: 12 / refund_status 3) | close (28)."""
    shop = _sandbox().shop
    actions = {
        "agree": shop.agree_refund,
        "refuse": shop.refuse_refund,
        "succeed": shop.succeed_refund,
        "close": shop.close_refund,
    }
    if action not in actions:
        raise KeyError(f"action {action}")
    with shop.lock:
        actions[action](aftersale_id)
        return jsonify(_aftersale_json(aftersale_id))


@bp.get("/tracking/<tracking_no>")
def tracking(tracking_no: str) -> Any:
    """Which order a tracking number belongs to now."""
    shop = _sandbox().shop
    with shop.lock:
        order = shop.order_for_tracking(tracking_no)
    if order is None:
        raise KeyError(tracking_no)
    return jsonify(tracking_no=tracking_no.upper(), order_id=order.order_id)


@bp.post("/tracking/<tracking_no>/reissue")
def reissue(tracking_no: str) -> Any:
    """{"order_id": "..."}: the number leaves its order and ships this one (waybill recycling)."""
    order_id = _body().get("order_id")
    if not order_id:
        raise ValueError("order_id is required")
    shop = _sandbox().shop
    with shop.lock:
        shop.reissue_tracking(tracking_no, str(order_id))
        return jsonify(_order_json(str(order_id)))


@bp.post("/bulk")
def bulk() -> Any:
    """{"aftersales": N, "span_seconds": 86400, "success_ratio": 0.5}: for benchmarks (no pushes)."""
    body = _body()
    count = body.get("aftersales", 0)
    if not isinstance(count, int) or not 0 <= count <= 1_000_000:
        raise ValueError("aftersales must be an integer up to 1,000,000")
    shop = _sandbox().shop
    total = bulk_aftersales(
        shop,
        count,
        span_seconds=int(body.get("span_seconds", 86400)),
        success_ratio=float(body.get("success_ratio", 0.5)),
    )
    return jsonify(aftersales=total, orders=len(shop.orders))


@bp.get("/pushes")
def pushes() -> Any:
    """What was pushed lately, with counters."""
    pusher = _sandbox().pusher
    return jsonify(
        stats=dict(pusher.stats),
        pending=pusher.pending,
        recent=list(pusher.recent)[-100:],
        verification=pusher.verification,
    )


@bp.post("/push/release")
def release() -> Any:
    """Send the pushes held by the push_reorder fault now, newest first."""
    return jsonify(released=_sandbox().pusher.release_held())


@bp.post("/push/url")
def push_url() -> Any:
    """{"url": "http://127.0.0.1:8080/webhooks/douyin"} or {"url": null} to stop pushing."""
    url = _body().get("url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise ValueError("url must be http(s)")
    _sandbox().pusher.url = url
    return jsonify(url=url)
