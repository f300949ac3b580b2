"""The API's error tree: every refusal is a 4xx JSON body {error, message} and changes nothing."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from server.metrics import HTTP_ERRORS


class ApiError(Exception):
    status = 400
    error = "bad_request"
    message = "请求无效"

    def __init__(self, message: str | None = None, *, error: str | None = None, status: int | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.error = error or self.error
        self.status = status or self.status


class MalformedJson(ApiError):
    error, message = "malformed_json", "请求体不是有效的 JSON"


class InvalidField(ApiError):
    error = "invalid_field"


class Unauthorized(ApiError):
    status, error, message = 401, "invalid_token", "工作站令牌无效"


_HTTP_ERROR_NAMES = {
    400: ("bad_request", "请求无效"),
    404: ("not_found", "接口不存在"),
    405: ("method_not_allowed", "不支持的请求方法"),
    413: ("body_too_large", "请求体过大"),
    415: ("unsupported_media_type", "请使用 application/json"),
}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz", "/metrics"))


def register(app: Flask) -> None:
    from server.journal import JournalUnavailable

    @app.errorhandler(JournalUnavailable)
    def journal_unavailable(exc: JournalUnavailable):
        HTTP_ERRORS.labels("journal_unavailable").inc()
        app.logger.error("journal write failed: %s", exc)
        return jsonify(error="journal_unavailable", message="服务器暂时无法记录扫描，请稍后重试"), 503

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        HTTP_ERRORS.labels(exc.error).inc()
        return jsonify(error=exc.error, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not _wants_json():
            return exc
        error, message = _HTTP_ERROR_NAMES.get(exc.code or 400, ("http_error", exc.description or ""))
        HTTP_ERRORS.labels(error).inc()
        return jsonify(error=error, message=message), exc.code
