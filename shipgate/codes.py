"""Classify what a packer scanned. Pure functions, standard library only.

A scan is one of: a Douyin order or sku order id (19 digits; the two cannot be told
apart by shape, so the order look-up decides), a courier tracking number, one of
Shipgate's own printed codes (operator badge, exception QR, resolution sheet, drill),
or garbage. Tracking-number patterns are community patterns, used to reject garbage;
the order look-up, not the pattern, decides what a number belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_CODE_LENGTH = 64

# AIM symbology identifiers some scanners prepend: "]" + symbology letter + modifier.
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]", re.ASCII)
_ORDER_ID = re.compile(r"^\d{19}$", re.ASCII)

CARRIER_PATTERNS: dict[str, re.Pattern[str]] = {
    "SF": re.compile(r"^SF\d{12,13}$", re.ASCII),
    "YTO": re.compile(r"^YT\d{13}$", re.ASCII),
    "JT": re.compile(r"^JT\d{12,13}$", re.ASCII),
    "ZTO": re.compile(r"^(7[3-68]\d{12}|7[3-68]\d{10})$", re.ASCII),
    "STO": re.compile(r"^(77|43)\d{12,15}$", re.ASCII),
    "YUNDA": re.compile(r"^[34]\d{14}$", re.ASCII),
    "EMS": re.compile(r"^(10|11|12|50|51|52|95|97|98|99)\d{11}$", re.ASCII),
    "EMS_S10": re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$", re.ASCII),
    "JD": re.compile(r"^JD[A-Z0-9]{2}\d{11}$", re.ASCII),
    "DEPPON": re.compile(r"^DPK\d{12}$", re.ASCII),
}

# Shipgate's own printed codes: "SG-<kind>-<value>".
_OWN_CODE = re.compile(r"^SG-(OP|EX|RS|DR)-([0-9A-Za-z_-]{1,48})$", re.ASCII)


class CodeKind(StrEnum):
    ORDER_ID = "order_id"  # a shop order id or a sku order id
    TRACKING_NO = "tracking_no"
    BADGE = "badge"  # an operator's badge: SG-OP-<badge>
    EXCEPTION = "exception"  # the QR on a red/yellow slip: SG-EX-<scan_id>
    RESOLUTION = "resolution"  # a line of the printed resolution sheet: SG-RS-<resolution>
    DRILL = "drill"  # a drill code printed from the console: SG-DR-<token>
    INVALID = "invalid"


_OWN_KINDS = {
    "OP": CodeKind.BADGE,
    "EX": CodeKind.EXCEPTION,
    "RS": CodeKind.RESOLUTION,
    "DR": CodeKind.DRILL,
}


@dataclass(frozen=True)
class Code:
    kind: CodeKind
    value: str  # the normalised code (AIM prefix and whitespace removed)
    carrier: str | None = None  # for tracking numbers: the pattern that matched
    problem: str | None = None  # for invalid codes: why, in English, for logs

    @property
    def valid(self) -> bool:
        return self.kind is not CodeKind.INVALID


def _invalid(value: str, problem: str) -> Code:
    return Code(CodeKind.INVALID, value[:MAX_CODE_LENGTH], problem=problem)


def s10_check_digit_ok(number: str) -> bool:
    """UPU S10 (e.g. EMS international): 8 digits weighted 8,6,4,2,3,5,9,7 then a mod-11 check digit."""
    digits = number[2:11]
    total = sum(int(d) * w for d, w in zip(digits[:8], (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return check == int(digits[8])


def normalise(raw: str) -> str:
    """Strip surrounding whitespace and one AIM symbology prefix."""
    text = raw.strip()
    if _AIM_PREFIX.match(text):
        text = text[3:]
    return text


def classify(raw: str) -> Code:
    """Say what a scanned string is. Never raises; garbage comes back as CodeKind.INVALID."""
    if not isinstance(raw, str):
        return _invalid("", "not text")
    if len(raw) > MAX_CODE_LENGTH * 2:
        return _invalid(raw, "too long")
    text = normalise(raw)
    if not text:
        return _invalid(text, "empty")
    if len(text) > MAX_CODE_LENGTH:
        return _invalid(text, "too long")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return _invalid(text, "control characters")
    if _ORDER_ID.match(text):
        return Code(CodeKind.ORDER_ID, text)
    own = _OWN_CODE.match(text)
    if own:
        return Code(_OWN_KINDS[own.group(1)], own.group(2))
    upper = text.upper()
    for carrier, pattern in CARRIER_PATTERNS.items():
        if pattern.match(upper):
            if carrier == "EMS_S10" and not s10_check_digit_ok(upper):
                return _invalid(text, "S10 check digit does not match")
            return Code(CodeKind.TRACKING_NO, upper, carrier=carrier)
    return _invalid(text, "not an order id, tracking number or Shipgate code")
