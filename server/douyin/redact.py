"""Keep secrets out of logs: httpx logs each request URL, and ours carries access_token and sign."""

from __future__ import annotations

import logging
import re

_SECRET_PARAM = re.compile(r"(?<![\w-])(access_token|refresh_token|sign|app_secret|code)=([^&\s\"'#]*)")


def redact(text: str) -> str:
    """Replace the values of secret query parameters with '***'."""
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=***", text)


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(str(a)) if _looks_like_url(a) else a for a in record.args)
        return True


def _looks_like_url(value: object) -> bool:
    return type(value).__name__ == "URL" or (isinstance(value, str) and "=" in value)


_INSTALLED: set[str] = set()


def install(logger_names: tuple[str, ...] = ("httpx", "httpcore")) -> None:
    """Attach the filter once to the loggers of the HTTP stack (idempotent)."""
    for name in logger_names:
        if name not in _INSTALLED:
            logging.getLogger(name).addFilter(RedactSecrets())
            _INSTALLED.add(name)
