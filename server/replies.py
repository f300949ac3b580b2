"""JSON replies for the API's hot paths, without Flask's per-call JSON provider look-ups.

The same bytes `jsonify` makes in production (compact, keys sorted, UTF-8 unescaped), from one
encoder built at import; only for payloads of plain JSON types (no datetimes, no dataclasses).
"""

from __future__ import annotations

import json

from flask import Response

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def json_reply(payload: dict, status: int = 200) -> Response:
    return Response(_encode(payload), status=status, mimetype="application/json")
