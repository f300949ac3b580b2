"""Form validation: raw values in, cleaned values or a zh-CN message per field out. Pure.

Each `*_form` function reads a form (a dict or Werkzeug MultiDict) and returns a `Form`; the
view shows `form.errors` beside the fields and changes nothing unless `form.ok`. Checks that
need the database (a name already taken) are made by the services, which raise with the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from server.clearing import LEAD_RESOLUTIONS, MAX_NOTE
from server.incidents.pii import pii_problem
from server.models.users import Role

NAME = re.compile(r"^[\w.\- ]{1,64}$")  # \w includes Chinese characters
USER_NAME = re.compile(r"^[\w.\-@]{1,64}$")
BADGE = re.compile(r"^[0-9A-Za-z_-]{1,48}$")  # what fits in SG-OP-<badge>
SHOP_ID = re.compile(r"^\d{1,20}$")
APP_KEY = re.compile(r"^[0-9A-Za-z]{1,64}$")
PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]*$")


class Form:
    """Raw values (shown back in the form), cleaned values and one error per field."""

    def __init__(self, raw: Mapping | None = None):
        self.raw = raw if raw is not None else {}
        self.values: dict[str, object] = {}
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str) -> str:
        """The raw value, for re-rendering a refused form."""
        value = self.raw.get(name, "")
        return value if isinstance(value, str) else ""

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(
        self,
        name: str,
        label: str,
        *,
        required: bool = True,
        max_len: int = 64,
        pattern: re.Pattern | None = None,
        hint: str = "",
        strip: bool = True,
    ) -> str:
        value = self.get(name)
        value = value.strip() if strip else value
        if not value:
            if required:
                self.error(name, f"请填写{label}")
        elif len(value) > max_len:
            self.error(name, f"{label}不能超过 {max_len} 个字符")
        elif not PRINTABLE.match(value):
            self.error(name, f"{label}含有无效字符")
        elif pattern is not None and not pattern.match(value):
            self.error(name, hint or f"{label}格式不正确")
        self.values[name] = value
        return value

    def choice(self, name: str, label: str, choices: Mapping[str, object], *, required: bool = True):
        raw = self.get(name)
        if raw == "" and not required:
            self.values[name] = None
            return None
        if raw not in choices:
            self.error(name, f"请选择{label}")
            self.values[name] = None
            return None
        self.values[name] = choices[raw]
        return choices[raw]

    def flag(self, name: str) -> bool:
        self.values[name] = self.get(name) in ("1", "on", "yes", "true")
        return self.values[name]

    def many(self, name: str, label: str, choices: Mapping[str, object]) -> list:
        raw = self.raw.getlist(name) if hasattr(self.raw, "getlist") else self.raw.get(name, [])
        if any(value not in choices for value in raw):
            self.error(name, f"{label}的选项无效")
        self.values[name] = [choices[v] for v in raw if v in choices]
        return self.values[name]


def login_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("name", "用户名")
    form.text("password", "密码", max_len=128, strip=False)
    return form


def _no_pii(form: Form, name: str) -> None:
    """Notes never hold a buyer's phone number or address (server.incidents.pii)."""
    problem = pii_problem(form.values.get(name) or "")
    if problem and name not in form.errors:
        form.error(name, problem)


def clear_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.choice("resolution", "处理方式", {r.value: r for r in LEAD_RESOLUTIONS})
    form.text("note", "备注", required=False, max_len=MAX_NOTE)
    _no_pii(form, "note")
    return form


def override_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("note", "放行原因", max_len=MAX_NOTE)
    _no_pii(form, "note")
    if not form.flag("confirm"):
        form.error("confirm", "请勾选确认：订单在抖店仍为退款或取消状态")
    return form


def station_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("name", "工作站名称", pattern=NAME, hint="名称只能包含文字、数字、空格和 . _ -")
    form.text("warehouse", "仓库", pattern=NAME, hint="仓库名称只能包含文字、数字、空格和 . _ -")
    form.choice("mode", "模式", {"bench": "bench", "handover": "handover"})
    return form


def rename_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("name", "新名称", pattern=NAME, hint="名称只能包含文字、数字、空格和 . _ -")
    return form


def operator_form(raw: Mapping, warehouses: Mapping[str, int]) -> Form:
    form = Form(raw)
    form.text("name", "姓名", pattern=NAME, hint="姓名只能包含文字、数字、空格和 . _ -")
    form.text("badge", "工牌号", max_len=48, pattern=BADGE, hint="工牌号只能包含字母、数字、_ 和 -")
    form.choice("warehouse_id", "仓库", warehouses, required=False)
    form.flag("is_lead")
    return form


def user_form(raw: Mapping, warehouses: Mapping[str, int]) -> Form:
    form = Form(raw)
    form.text("name", "用户名", pattern=USER_NAME, hint="用户名只能包含字母、数字、中文和 . _ - @")
    password = form.text("password", "密码", max_len=128, strip=False)
    if form.get("password2") != password:
        form.error("password2", "两次输入的密码不一致")
    role_form_fields(form)
    form.choice("warehouse_id", "仓库", warehouses, required=False)
    return form


def role_form(raw: Mapping) -> Form:
    form = Form(raw)
    role_form_fields(form)
    return form


def role_form_fields(form: Form) -> None:
    form.choice("role", "角色", {r.value: r for r in Role})


def shop_form(raw: Mapping, warehouses: Mapping[str, int], *, creating: bool) -> Form:
    """A new shop needs its id and secret; on an existing one a blank secret leaves it unchanged."""
    form = Form(raw)
    if creating:
        form.text("shop_id", "店铺 ID", max_len=20, pattern=SHOP_ID, hint="店铺 ID 是抖店后台显示的数字")
    form.text("name", "店铺名称", max_len=128)
    form.text("app_key", "App Key", pattern=APP_KEY, hint="App Key 只能包含字母和数字")
    form.text("app_secret", "App Secret", required=creating, max_len=128)
    form.many("warehouse_ids", "仓库", warehouses)
    return form


def reauthorise_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("auth_code", "授权码", required=False, max_len=128)
    return form


def active_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.choice("active", "状态", {"1": True, "0": False})
    return form
