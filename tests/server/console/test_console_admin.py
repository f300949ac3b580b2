"""Administration: stations, operators and badges, users, shops; refused to leads; bad input."""

from __future__ import annotations

import re

import pytest
from factories import ensure_shop
from sqlalchemy import select

from server.models import AuditLog, Operator, Shop, Station, Warehouse
from server.models.users import User

TABLES = (Station, Operator, User, Shop, Warehouse, AuditLog)
ADMIN_PAGES = [
    "/admin/",
    "/admin/audit",
    "/admin/stations/",
    "/admin/operators",
    "/admin/users",
    "/admin/shops/",
    "/admin/shops/10437917",
    "/admin/badges",
    "/admin/resolution-sheet",
]


def admin_posts(session) -> list[tuple[str, dict]]:
    station = session.scalar(select(Station.id))
    operator = session.scalar(select(Operator.id))
    user = session.scalar(select(User.id).where(User.name == "lead"))
    return [
        ("/admin/stations/", {"name": "bench-9", "warehouse": "main", "mode": "bench"}),
        (f"/admin/stations/{station}/rename", {"name": "renamed"}),
        (f"/admin/stations/{station}/revoke", {}),
        ("/admin/operators", {"name": "新人", "badge": "P900"}),
        (f"/admin/operators/{operator}/active", {"active": "0"}),
        ("/admin/users", {"name": "x", "password": "password-1", "password2": "password-1", "role": "admin"}),
        (f"/admin/users/{user}/role", {"role": "admin"}),
        (f"/admin/users/{user}/active", {"active": "0"}),
        ("/admin/shops/", {"shop_id": "555", "name": "s", "app_key": "k", "app_secret": "s"}),
        ("/admin/shops/10437917", {"name": "s", "app_key": "k", "app_secret": "new"}),
        ("/admin/shops/10437917/reauthorise", {"auth_code": "code"}),
    ]


@pytest.fixture
def furnished(session, station_token):
    ensure_shop(session)
    session.add(Operator(name="张三", badge="P001"))
    session.commit()


def test_a_lead_is_refused_every_admin_page_and_action(as_lead, session, furnished, snapshot):
    for url in ADMIN_PAGES:
        assert as_lead.get(url).status_code == 403, url
    before = snapshot(*TABLES)
    for url, data in admin_posts(session):
        response = as_lead.post(url, data)
        assert response.status_code == 403 and "没有权限" in response.get_data(as_text=True), url
    assert snapshot(*TABLES) == before
    assert "管理" not in as_lead.get("/").get_data(as_text=True).split("<main>")[0]


def test_an_admin_sees_every_admin_page(as_admin, furnished):
    for url in ADMIN_PAGES:
        assert as_admin.get(url).status_code == 200, url


# --- stations ---------------------------------------------------------------------------------


def test_enrol_shows_the_token_once_and_it_works(as_admin, client, session):
    response = as_admin.post("/admin/stations/", {"name": "打包台-02", "warehouse": "north", "mode": "bench"})
    text = response.get_data(as_text=True)
    token = re.search(r'id="station-token">(sgst_[^<]+)<', text).group(1)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "只显示这一次" in text
    assert token not in as_admin.get("/admin/stations/").get_data(as_text=True)
    heartbeat = client.post("/api/v1/heartbeat", json={}, headers={"Authorization": f"Bearer {token}"})
    assert heartbeat.status_code == 200
    station = session.scalar(select(Station).where(Station.name == "打包台-02"))
    assert station.warehouse.name == "north" and token not in station.token_hash
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "station.enrol"))
    assert entry.actor == "user:admin" and entry.target == "打包台-02"


def test_bad_enrolments_say_why_and_change_nothing(as_admin, furnished, snapshot):
    before = snapshot(*TABLES)
    cases = [
        ({"name": "", "warehouse": "main", "mode": "bench"}, "请填写工作站名称"),
        ({"name": "bench<1>", "warehouse": "main", "mode": "bench"}, "名称只能包含"),
        ({"name": "x" * 65, "warehouse": "main", "mode": "bench"}, "不能超过 64"),
        ({"name": "bench-2", "warehouse": "", "mode": "bench"}, "请填写仓库"),
        ({"name": "bench-2", "warehouse": "main", "mode": "flying"}, "请选择模式"),
        ({"name": "bench-1", "warehouse": "main", "mode": "bench"}, "已有同名的工作站"),
    ]
    for data, message in cases:
        response = as_admin.post("/admin/stations/", data)
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and message in text and "field-error" in text, data
    assert snapshot(*TABLES) == before


def test_rename_and_revoke(as_admin, client, auth, session, furnished, snapshot):
    station = session.scalar(select(Station).where(Station.name == "bench-1"))
    session.add(Station(name="bench-2", warehouse_id=station.warehouse_id, token_hash="0" * 64))
    session.commit()
    before = snapshot(*TABLES)
    refused = as_admin.post(f"/admin/stations/{station.id}/rename", {"name": "bench-2"})
    assert refused.status_code == 400 and "已有同名的工作站" in refused.get_data(as_text=True)
    assert snapshot(*TABLES) == before
    assert as_admin.post(f"/admin/stations/{station.id}/rename", {"name": "打包台-01"}).status_code == 302
    session.expire_all()
    assert session.get(Station, station.id).name == "打包台-01"
    assert client.post("/api/v1/heartbeat", json={}, headers=auth).status_code == 200  # same token
    assert as_admin.post(f"/admin/stations/{station.id}/revoke").status_code == 302
    assert client.post("/api/v1/heartbeat", json={}, headers=auth).status_code == 401
    again = as_admin.post(f"/admin/stations/{station.id}/revoke")
    assert again.status_code == 400 and "已被吊销" in again.get_data(as_text=True)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "user:admin")).all()
    assert {"station.rename", "station.revoke"} <= set(actions)


# --- operators and sheets ---------------------------------------------------------------------


def test_operators_add_deactivate_and_refusals(as_admin, session, furnished, snapshot):
    before = snapshot(*TABLES)
    for data, message in [
        ({"name": "李四", "badge": "P001"}, "该工牌号已被使用"),
        ({"name": "李四", "badge": "P 002"}, "工牌号只能包含"),
        ({"name": "", "badge": "P002"}, "请填写姓名"),
        ({"name": "李四", "badge": "P002", "warehouse_id": "999"}, "请选择仓库"),
    ]:
        response = as_admin.post("/admin/operators", data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert snapshot(*TABLES) == before
    assert (
        as_admin.post("/admin/operators", {"name": "李主管", "badge": "L001", "is_lead": "1"}).status_code
        == 302
    )
    lead = session.scalar(select(Operator).where(Operator.badge == "L001"))
    assert lead.is_lead and lead.active
    assert as_admin.post(f"/admin/operators/{lead.id}/active", {"active": "maybe"}).status_code == 400
    assert as_admin.post(f"/admin/operators/{lead.id}/active", {"active": "0"}).status_code == 302
    session.expire_all()
    assert not session.get(Operator, lead.id).active
    assert {"operator.add", "operator.deactivate"} <= set(session.scalars(select(AuditLog.action)).all())


def test_badge_sheet_has_a_qr_per_active_operator(as_admin, session, furnished):
    session.add(Operator(name="离职", badge="X001", active=False))
    session.commit()
    text = as_admin.get("/admin/badges").get_data(as_text=True)
    assert "SG-OP-P001" in text and "张三" in text and "SG-OP-X001" not in text
    assert 'src="data:image/svg+xml;base64,' in text and "data-print" in text


def test_resolution_sheet_has_the_four_bench_resolutions(as_admin):
    text = as_admin.get("/admin/resolution-sheet").get_data(as_text=True)
    for code, label in [
        ("moved_to_refund_shelf", "放入退款区"),
        ("partial_item_removed", "已取出退款商品"),
        ("refund_closed_release", "退款已关闭可发货"),
        ("misscan", "误扫"),
    ]:
        assert f"SG-RS-{code}" in text and label in text
    assert "SG-RS-override_release" not in text
    assert text.count('src="data:image/svg+xml;base64,') == 4


def test_qr_codes_are_plain_svg_without_scripts():
    from server.console.barcodes import qr_svg

    svg = qr_svg("SG-RS-misscan")
    assert svg.startswith("<svg") and "<path" in svg and "script" not in svg


# --- users ------------------------------------------------------------------------------------


def test_add_a_user_with_a_hashed_password(as_admin, session, new_web):
    data = {"name": "zhao", "password": "tea-kettle-93", "password2": "tea-kettle-93", "role": "lead"}
    assert as_admin.post("/admin/users", data).status_code == 302
    user = session.scalar(select(User).where(User.name == "zhao"))
    assert user.password_hash.startswith("scrypt:") and "tea-kettle-93" not in user.password_hash
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "user.add"))
    assert "tea-kettle-93" not in str(entry.detail)
    assert new_web().login("zhao", "tea-kettle-93").status_code == 302


def test_bad_users_say_why_and_change_nothing(as_admin, snapshot):
    before = snapshot(*TABLES)
    ok = {"name": "zhao", "password": "tea-kettle-93", "password2": "tea-kettle-93", "role": "lead"}
    for change, message in [
        ({"password2": "other-pass-123"}, "两次输入的密码不一致"),
        ({"password": "short", "password2": "short"}, "密码至少 8 位"),
        ({"password": "12345678", "password2": "12345678"}, "密码太简单"),
        ({"password": "qwertyuiop", "password2": "qwertyuiop"}, "密码太简单"),
        ({"password": "zhao20261201", "password2": "zhao20261201"}, "密码不能包含用户名"),
        ({"role": "root"}, "请选择角色"),
        ({"name": "admin"}, "该用户名已存在"),
        ({"name": "a b"}, "用户名只能包含"),
        ({"warehouse_id": "77"}, "请选择仓库"),
    ]:
        response = as_admin.post("/admin/users", {**ok, **change})
        assert response.status_code == 400 and message in response.get_data(as_text=True), change
    assert snapshot(*TABLES) == before


def test_roles_and_disabling(as_admin, session, make_user, new_web):
    make_user("lead")
    lead = new_web()
    lead.login("lead")
    user = session.scalar(select(User).where(User.name == "lead"))
    assert lead.get("/admin/").status_code == 403
    assert as_admin.post(f"/admin/users/{user.id}/role", {"role": "admin"}).status_code == 302
    assert lead.get("/admin/").status_code == 200  # the role is read on every request
    assert as_admin.post(f"/admin/users/{user.id}/active", {"active": "0"}).status_code == 302
    assert lead.get("/").status_code == 302  # signed out at once
    actions = session.scalars(select(AuditLog.action).where(AuditLog.target == "user:lead")).all()
    assert {"user.role", "user.disable"} <= set(actions)


def test_the_last_admin_cannot_be_demoted_or_disabled(as_admin, session, snapshot):
    me = session.scalar(select(User).where(User.name == "admin"))
    before = snapshot(*TABLES)
    demote = as_admin.post(f"/admin/users/{me.id}/role", {"role": "lead"})
    assert demote.status_code == 400 and "不能取消最后一个管理员" in demote.get_data(as_text=True)
    disable = as_admin.post(f"/admin/users/{me.id}/active", {"active": "0"})
    assert disable.status_code == 400 and "不能停用自己的账号" in disable.get_data(as_text=True)
    assert as_admin.post(f"/admin/users/{me.id}/role", {"role": "god"}).status_code == 400
    assert snapshot(*TABLES) == before


# --- shops ------------------------------------------------------------------------------------


def test_shops_keep_their_secret_write_only(as_admin, session, station_token):
    data = {
        "shop_id": "20001",
        "name": "二号店",
        "app_key": "7000000000000000042",
        "app_secret": "very-secret-value",
        "warehouse_ids": ["1"],
    }
    assert as_admin.post("/admin/shops/", data).status_code == 302
    shop = session.get(Shop, "20001")
    assert shop.app_secret == "very-secret-value" and [w.name for w in shop.warehouses] == ["main"]
    for url in ("/admin/shops/", "/admin/shops/20001", "/admin/audit"):
        assert "very-secret-value" not in as_admin.get(url).get_data(as_text=True), url
    edit = {"name": "二号店（新）", "app_key": "7000000000000000042", "app_secret": ""}
    assert as_admin.post("/admin/shops/20001", edit).status_code == 302
    session.expire_all()
    shop = session.get(Shop, "20001")
    assert shop.name == "二号店（新）" and shop.app_secret == "very-secret-value" and shop.warehouses == []
    assert as_admin.post("/admin/shops/20001", {**edit, "app_secret": "rotated"}).status_code == 302
    session.expire_all()
    assert session.get(Shop, "20001").app_secret == "rotated"
    details = session.scalars(select(AuditLog.detail).where(AuditLog.target == "shop:20001")).all()
    assert all("rotated" not in str(d) and "very-secret-value" not in str(d) for d in details)


def test_reauthorise_forgets_the_tokens(as_admin, session):
    shop = ensure_shop(session)
    shop.access_token, shop.refresh_token = "tok", "ref"
    session.commit()
    assert as_admin.post("/admin/shops/10437917/reauthorise", {"auth_code": "new-code"}).status_code == 302
    session.expire_all()
    shop = session.get(Shop, "10437917")
    assert (shop.access_token, shop.refresh_token, shop.auth_code) == (None, None, "new-code")
    assert session.scalar(select(AuditLog).where(AuditLog.action == "shop.reauthorise")).detail == {
        "auth_code_given": True
    }


def test_bad_shops_say_why_and_change_nothing(as_admin, session, snapshot):
    ensure_shop(session)
    session.commit()
    before = snapshot(*TABLES)
    ok = {"shop_id": "20002", "name": "三号店", "app_key": "abc123", "app_secret": "s"}
    for change, message in [
        ({"shop_id": "shop-3"}, "店铺 ID 是抖店后台显示的数字"),
        ({"shop_id": "10437917"}, "该店铺已添加"),
        ({"app_secret": ""}, "请填写App Secret"),
        ({"app_key": "a key"}, "App Key 只能包含字母和数字"),
        ({"warehouse_ids": ["999"]}, "仓库的选项无效"),
    ]:
        response = as_admin.post("/admin/shops/", {**ok, **change})
        assert response.status_code == 400 and message in response.get_data(as_text=True), change
    response = as_admin.post("/admin/shops/10437917", {"name": "", "app_key": "abc", "app_secret": ""})
    assert response.status_code == 400 and "请填写店铺名称" in response.get_data(as_text=True)
    assert as_admin.get("/admin/shops/99999").status_code == 404
    assert snapshot(*TABLES) == before


def test_audit_page_lists_console_actions(as_admin):
    as_admin.post("/admin/operators", {"name": "李四", "badge": "P002"})
    text = as_admin.get("/admin/audit").get_data(as_text=True)
    assert "operator.add" in text and "auth.login" in text and "<td>admin</td>" in text
    assert "user:admin" not in text  # people by name (server.console.people)


# --- admins are never bound to a warehouse --------------------------------------------------------


def test_an_admin_bound_to_a_warehouse_gets_no_admin_rights(make_user, new_web, session, snapshot):
    """Before: an admin bound to warehouse A could create an unbound admin and so reach every
    warehouse. Now a bound admin row (an old one, or written around the console) is no admin."""
    make_user("admin-a", "admin", warehouse="A")
    bound = new_web()
    assert bound.login("admin-a").status_code == 302
    before = snapshot(User)
    data = {"name": "escalated", "password": "tea-kettle-93", "password2": "tea-kettle-93", "role": "admin"}
    assert bound.post("/admin/users", data).status_code == 403
    assert bound.get("/admin/").status_code == 403
    assert snapshot(User) == before


def test_an_admin_cannot_be_made_bound(as_admin, session, make_user, snapshot):
    warehouse = make_user("lead-a", "lead", warehouse="A").warehouse_id
    before = snapshot(User)
    data = {"name": "b-admin", "password": "tea-kettle-93", "password2": "tea-kettle-93", "role": "admin",
            "warehouse_id": str(warehouse)}  # fmt: skip
    response = as_admin.post("/admin/users", data)
    assert response.status_code == 400 and "管理员管理所有仓库" in response.get_data(as_text=True)
    lead = session.scalar(select(User).where(User.name == "lead-a"))
    response = as_admin.post(f"/admin/users/{lead.id}/role", {"role": "admin"})
    assert response.status_code == 400 and "管理员管理所有仓库" in response.get_data(as_text=True)
    assert snapshot(User) == before


def test_the_migration_turns_bound_admins_into_leads(tmp_path):
    from sqlalchemy import text

    from server import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    db.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO warehouses (id, name, created_at) VALUES (1, 'A', '2026-01-01 00:00:00')")
        )
        for name, warehouse in (("free", None), ("bound", 1)):
            conn.execute(
                text("INSERT INTO users (name, password_hash, role, warehouse_id, active, created_at)"
                     " VALUES (:n, 'x', 'admin', :w, 1, '2026-01-01 00:00:00')"),
                {"n": name, "w": warehouse},
            )  # fmt: skip
    db.upgrade(engine)
    with engine.connect() as conn:
        roles = dict(conn.execute(text("SELECT name, role FROM users")).all())
    assert roles == {"free": "admin", "bound": "lead"}
