"""The console's forms for incident steps, templates and robots: raw values in, cleaned values or
a zh-CN message per field out (on server.console.forms.Form). Pure.

Free text a lead types (notes, what the buyer said) may not hold a phone number: Shipgate keeps
no buyer data, and a mobile-looking number is refused outright.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from server.console.forms import Form
from server.incidents import ledger
from server.incidents.pii import pii_problem
from server.incidents.robot_urls import url_problem
from server.incidents.robots import KINDS
from server.incidents.templates import CHANNELS, DEFAULTS, problems
from server.incidents.workflow import Cause, Inspection, Outcome

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_NOTE = 500
NO_PII = "请勿填写手机号等买家个人信息"


def long_text(form: Form, name: str, label: str, *, max_len: int = MAX_NOTE, required: bool = False) -> str:
    """Text that may span lines; never a phone number."""
    value = form.get(name).strip().replace("\r\n", "\n")
    if not value and required:
        form.error(name, f"请填写{label}")
    elif len(value) > max_len:
        form.error(name, f"{label}不能超过 {max_len} 个字")
    elif CONTROL.search(value):
        form.error(name, f"{label}含有无效字符")
    elif pii_problem(value):
        form.error(name, f"{NO_PII}（{pii_problem(value)}）")
    form.values[name] = value
    return value


def contact_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.choice("template", "模板", {"": None, **{k: k for k in DEFAULTS}}, required=False)
    form.choice("channel", "联系渠道", {k: k for k in CHANNELS})
    message = long_text(form, "message", "发送内容", max_len=1000, required=True)
    if message and "message" not in form.errors:
        found = problems(message)
        if found:
            form.error("message", "；".join(found))
    long_text(form, "reply", "买家回复")
    return form


def outcome_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.choice("outcome", "处理结果", {o.value: o for o in Outcome})
    long_text(form, "note", "备注")
    return form


def note_form(raw: Mapping) -> Form:
    form = Form(raw)
    long_text(form, "note", "备注")
    return form


def inspect_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.choice("inspection", "验货结果", {i.value: i for i in Inspection})
    long_text(form, "note", "备注")
    return form


def cause_form(raw: Mapping) -> Form:
    form = Form(raw)
    cause = form.choice("cause", "内部原因", {c.value: c for c in Cause})
    long_text(form, "note", "原因说明", required=cause is Cause.OTHER)
    return form


def ledger_form(raw: Mapping) -> Form:
    form = Form(raw)
    value, errors = ledger.parse_ledger(raw)
    for name, message in errors.items():
        form.error(name, message)
    form.values["ledger"] = value
    long_text(form, "note", "备注")
    return form


def template_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("title", "标题")
    long_text(form, "body", "内容", max_len=1000, required=True)
    return form


def robot_form(
    raw: Mapping, warehouses: Mapping[str, int], *, creating: bool, extra_hosts: tuple[str, ...] = ()
) -> Form:
    """A new robot needs its URL; on an existing one a blank URL or secret leaves it unchanged.
    The URL must be its platform's (server.incidents.robot_urls)."""
    form = Form(raw)
    form.text("name", "名称")
    kind = form.choice("kind", "类型", {k: k for k in KINDS})
    url = form.text("webhook_url", "Webhook 地址", required=creating, max_len=500, pattern=URL,
                    hint="Webhook 地址应以 http:// 或 https:// 开头")  # fmt: skip
    if url and kind and "webhook_url" not in form.errors:
        problem = url_problem(kind, url, extra_hosts)
        if problem:
            form.error("webhook_url", problem)
    form.text("secret", "加签密钥", required=False, max_len=200)
    form.choice("warehouse_id", "仓库", warehouses, required=False)
    form.flag("enabled")
    return form


def base_url_form(raw: Mapping) -> Form:
    form = Form(raw)
    form.text("public_base_url", "控制台访问地址", required=False, max_len=200, pattern=URL,
              hint="地址应以 http:// 或 https:// 开头，例如 http://192.168.1.10:8080")  # fmt: skip
    return form
