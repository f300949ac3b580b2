"""The leads' console: server-rendered pages for warehouse leads and IT, zh-CN first.

`init_app(app)` registers the console (one parent blueprint "console" holding one blueprint
per area: auth, queue, orders, floor, admin), the session settings, CSRF protection and the
security headers. Every asset is served from this package: warehouse LANs often have no internet.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, render_template, request

from server.clearing import RESOLUTION_LABELS
from server.console import admin as admin_area
from server.console import auth, csrf, floor, handover, incidents, labels, orders, people, queue, review

console = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
for _child in (auth.bp, queue.bp, orders.bp, floor.bp, handover.bp, admin_area.bp, incidents.bp, review.bp):
    console.register_blueprint(_child)

# Order matters: who is signed in, then "sign in first", then the CSRF check.
console.before_request(auth.load_user)
console.before_request(auth.require_login)
console.before_request(csrf.protect)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

ERROR_TEXT = {
    400: ("请求无效", "表单已过期或内容无效。请返回上一页，刷新后重试。"),
    403: ("没有权限", "你的账号没有执行此操作的权限。如需要，请联系管理员。"),
    404: ("未找到", "要找的页面或记录不存在。"),
}


@console.after_request
def security_headers(response):
    """Every console response: no framing, no sniffing, scripts and styles only from here."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_page(exc):
    title, text = ERROR_TEXT.get(exc.code, ("出错了", "请稍后重试。"))
    if exc.code == 400 and exc.description == "csrf":
        text = "表单已过期或来源无效（安全校验失败），未做任何更改。请返回、刷新页面后重试。"
    return render_template("console/error.html", title=title, text=text, code=exc.code), exc.code


for _code in ERROR_TEXT:
    console.register_error_handler(_code, error_page)


def _template_context() -> dict:
    return {"current_user": g.get("user"), "endpoint": request.endpoint or ""}


console.context_processor(_template_context)


def init_app(app: Flask) -> None:
    """Register the console on an app (once): blueprints, session settings, template filters."""
    app.config.update(
        PERMANENT_SESSION_LIFETIME=auth.SHIFT,
        SESSION_COOKIE_NAME="shipgate_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.jinja_env.globals.update(csrf_token=csrf.token, L=labels, RESOLUTION_LABELS=RESOLUTION_LABELS)
    app.jinja_env.filters.update(
        local_time=labels.local_time,
        duration=labels.duration,
        fen=labels.fen,
        filesize=labels.filesize,
    )
    app.jinja_env.filters.update(who=people.who, badge=people.badge)  # people by name
    app.register_blueprint(console)
