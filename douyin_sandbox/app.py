"""The sandbox's Flask app: the open-platform gateway at /<method path> and control at /sandbox/."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from douyin_sandbox import control
from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.protocol import GatewayError, envelope, read_call
from douyin_sandbox.runtime import Sandbox

EXTENSION = "douyin_sandbox"


def create_sandbox_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> Flask:
    """A Flask app speaking the Douyin open-platform protocol over an in-memory shop.

    Given only a config, it builds the Sandbox and starts its push sender; given a Sandbox, the
    caller starts and stops it.
    """
    if sandbox is None:
        sandbox = Sandbox(config or SandboxConfig()).start()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = sandbox
    app.register_blueprint(control.bp)
    app.add_url_rule("/<path:api_path>", "gateway", gateway, methods=["GET", "POST"])
    return app


def gateway(api_path: str) -> Response:
    """Any open-platform method: POST /order/searchList?app_key=…&method=…&sign=… (always HTTP 200)."""
    sandbox: Sandbox = current_app.extensions[EXTENSION]
    legacy = request.headers.get("x-open-no-old-err-code", "").strip() != "1"
    content_type = request.content_type or ""
    is_form = content_type.lower().startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    try:
        form = request.form if is_form else {}
        body = b"" if is_form else request.get_data(cache=False)
        call = read_call(api_path.strip("/").replace("/", "."), request.args, form, body, content_type)
    except GatewayError as error:
        answer = envelope(None, "", legacy=legacy, error=error)
    except (UnicodeDecodeError, RequestEntityTooLarge):
        error = GatewayError.invalid("param_json", "请求体过大或不是 UTF-8")
        answer = envelope(None, "", legacy=legacy, error=error)
    else:
        answer = sandbox.dispatch(call, legacy=legacy)
    response = jsonify(answer)
    response.headers["X-Tt-Logid"] = answer["log_id"]
    return response
