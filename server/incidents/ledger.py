"""The loss ledger: what an incident cost, in fen (integers). Pure.

net loss = return freight + compensation + coupon + written off − claim recovered

`goods_value` is what was at stake (shown, not summed into the loss): goods that come back
intact cost nothing but the freight; goods that do not come back are written off; money that
comes back (the buyer pays for goods they keep, a courier claim) is recovered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from server.models.incidents import LEDGER_FIELDS

MAX_FEN = 10_000_000_000  # ¥100,000,000: anything larger is a typing slip
YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")

LABELS = {
    "goods_value": "货值",
    "return_freight": "退回运费（含拦截费）",
    "compensation": "补偿买家",
    "coupon": "优惠券",
    "claim_recovered": "已追回（补款/理赔）",
    "written_off": "核销损失",
}


@dataclass(frozen=True)
class Ledger:
    goods_value: int = 0
    return_freight: int = 0
    compensation: int = 0
    coupon: int = 0
    claim_recovered: int = 0
    written_off: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{f.name} must be an integer number of fen, not {value!r}")
            if not 0 <= value <= MAX_FEN:
                raise ValueError(f"{f.name} out of range: {value}")

    @property
    def costs(self) -> int:
        return self.return_freight + self.compensation + self.coupon + self.written_off

    @property
    def net_loss(self) -> int:
        return self.costs - self.claim_recovered

    def __add__(self, other: Ledger) -> Ledger:
        return Ledger(**{name: getattr(self, name) + getattr(other, name) for name in LEDGER_FIELDS})

    def as_dict(self) -> dict[str, int]:
        return {**{name: getattr(self, name) for name in LEDGER_FIELDS}, "net_loss": self.net_loss}

    def changed(self, other: Ledger) -> dict[str, list[int]]:
        """{field: [before, after]} for the fields that differ."""
        return {
            name: [getattr(self, name), getattr(other, name)]
            for name in LEDGER_FIELDS
            if getattr(self, name) != getattr(other, name)
        }


def of(incident) -> Ledger:
    """The ledger stored on an incident row."""
    return Ledger(**{name: getattr(incident, name) or 0 for name in LEDGER_FIELDS})


def total(ledgers: Iterable[Ledger]) -> Ledger:
    result = Ledger()
    for ledger in ledgers:
        result = result + ledger
    return result


def totals_by(rows: Iterable[tuple[object, Ledger]]) -> dict[object, Ledger]:
    """Sum ledgers per key (a month, a warehouse, a (month, warehouse) pair), keys in first-seen order."""
    sums: dict[object, Ledger] = {}
    for key, ledger in rows:
        sums[key] = sums.get(key, Ledger()) + ledger
    return sums


def parse_yuan(text: str, label: str) -> int:
    """'12.5' (yuan, as the leads type it) -> 1250 fen; ValueError with a zh-CN message."""
    value = (text or "").strip().replace(",", "").replace("，", "").lstrip("¥￥")
    if value == "":
        return 0
    if value.startswith("-"):
        raise ValueError(f"{label}不能为负数")
    if not YUAN.match(value):
        raise ValueError(f"{label}请填写金额（元），最多两位小数，例如 12.50")
    whole, _, cents = value.partition(".")
    fen = int(whole) * 100 + int((cents + "00")[:2])
    if fen > MAX_FEN:
        raise ValueError(f"{label}金额过大，请核对")
    return fen


def yuan(fen: int) -> str:
    """1250 -> '12.50' (for a form field)."""
    return f"{fen // 100}.{fen % 100:02d}"


def parse_ledger(raw: Mapping) -> tuple[dict[str, int] | None, dict[str, str]]:
    """The fields a form sent, in yuan: ({field: fen}, {}) or (None, {field: message}). A field the
    form did not send is left out (unchanged); one sent empty is 0."""
    values, errors = {}, {}
    for name in LEDGER_FIELDS:
        if name not in raw:
            continue
        try:
            values[name] = parse_yuan(str(raw.get(name) or ""), LABELS[name])
        except ValueError as exc:
            errors[name] = str(exc)
    return (None, errors) if errors else (values, {})


def updated(ledger: Ledger, values: Mapping[str, int]) -> Ledger:
    """The ledger with some fields set (each checked again by Ledger)."""
    return Ledger(**{**{name: getattr(ledger, name) for name in LEDGER_FIELDS}, **values})
