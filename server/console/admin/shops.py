"""Douyin shops: add, edit, re-authorise. The app secret is write-only: never shown again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.console import queries
from server.console.admin import services
from server.console.auth import actor
from server.console.errors import FieldError
from server.console.forms import Form, reauthorise_form, shop_form
from server.db import get_session
from server.models import Shop

bp = Blueprint("shops", __name__, url_prefix="/shops")


def load(shop_id: str) -> Shop:
    shop = get_session().get(Shop, shop_id[:20])
    if shop is None:
        abort(404)
    return shop


def list_page(form: Form | None = None, status: int = 200):
    db = get_session()
    shops = db.scalars(select(Shop).options(selectinload(Shop.warehouses)).order_by(Shop.name)).all()
    return render_template(
        "console/admin/shops.html", shops=shops, form=form or Form(), warehouses=queries.warehouses(db)
    ), status


def edit_page(shop: Shop, form: Form | None = None, reauth: Form | None = None, status: int = 200):
    if form is None:
        form = Form({"name": shop.name, "app_key": shop.app_key})
        form.values["warehouse_ids"] = [w.id for w in shop.warehouses]
    return render_template(
        "console/admin/shop_edit.html",
        shop=shop,
        form=form,
        reauth=reauth or Form(),
        warehouses=queries.warehouses(get_session()),
    ), status


@bp.get("/")
def index():
    """Every shop with its authorisation state, and the form to add one."""
    return list_page()


@bp.post("/")
def add():
    """Add a shop with its app key and secret, linked to the warehouses that ship it."""
    db = get_session()
    form = shop_form(request.form, queries.warehouse_choices(db), creating=True)
    if form.ok:
        v = form.values
        try:
            services.add_shop(
                db, v["shop_id"], v["name"], v["app_key"], v["app_secret"], v["warehouse_ids"], actor=actor()
            )
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            flash(f"已添加店铺 {v['name']}", "ok")
            return redirect(url_for(".index"))
    return list_page(form, 400)


@bp.get("/<shop_id>")
def edit(shop_id: str):
    """A shop's settings; the secret field is always empty (blank keeps the stored one)."""
    return edit_page(load(shop_id))


@bp.post("/<shop_id>")
def update(shop_id: str):
    """Save a shop's name, app key, warehouses and (if given) a new secret."""
    db, shop = get_session(), load(shop_id)
    form = shop_form(request.form, queries.warehouse_choices(db), creating=False)
    if not form.ok:
        return edit_page(shop, form, status=400)
    v = form.values
    services.update_shop(
        db, shop, v["name"], v["app_key"], v["app_secret"], v["warehouse_ids"], actor=actor()
    )
    db.commit()
    flash(f"已保存店铺 {shop.name}", "ok")
    return redirect(url_for(".index"))


@bp.post("/<shop_id>/reauthorise")
def reauthorise(shop_id: str):
    """Drop the shop's tokens (and store a new auth code) so the sync authorises afresh."""
    db, shop, form = get_session(), load(shop_id), reauthorise_form(request.form)
    if not form.ok:
        return edit_page(shop, reauth=form, status=400)
    services.reauthorise_shop(db, shop, form.values["auth_code"], actor=actor())
    db.commit()
    flash(f"店铺 {shop.name} 已重新授权：同步将获取新的令牌", "ok")
    return redirect(url_for(".index"))
