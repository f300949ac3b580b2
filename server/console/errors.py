"""The console's refusals: each names the form field it belongs to and says why in zh-CN."""

from __future__ import annotations


class FieldError(ValueError):
    """A refused change; the view shows `message` beside `field` and commits nothing."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message
