"""The monthly review (复盘): blocks, holds and incidents by hour of day, product category, station,
packer and cause; how long refunds took to reach the bench; how often interception worked; what
was lost; and the month against the one before. Pure: facts in (server.incidents.facts loads
them), numbers out. Drill scans never reach these functions.

Counting rules, stated once:
- a blocked or held scan counts once per distinct product category of its order (an order of
  two categories counts in both; an order we know no category of counts as 未分类);
- an incident's hour is when its parcel passed the gate (when it was detected, if it never did);
- "refund to bench" is the time from Douyin's refund success (the after-sale's update_time at
  status 12) to the first BLOCK scan of that order, where both exist. It includes however long
  the parcel waited to be scanned, so it is an upper bound of the sync's lag, not the lag itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from statistics import median_low

from server.incidents.ledger import Ledger, total, totals_by
from shipgate.wire import Decision

CHINA = timezone(timedelta(hours=8), "CST")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
UNKNOWN_CATEGORY = "未分类"
NO_CAUSE = "未填写"
LAG_EDGES = (10, 60, 300, 1800, 7200)
LAG_LABELS = ("≤10 秒", "10 秒–1 分", "1–5 分", "5–30 分", "30 分–2 小时", "> 2 小时")


@dataclass(frozen=True)
class ScanFact:
    at: datetime
    decision: str  # BLOCK | HOLD
    station: str
    packer: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentFact:
    at: datetime
    station: str
    packer: str
    categories: tuple[str, ...] = ()
    cause: str = NO_CAUSE
    intercept_tried: bool = False
    intercept_ok: bool = False
    ledger: Ledger = field(default_factory=Ledger)
    race_window_s: int | None = None
    warehouse: str = "—"


@dataclass(frozen=True)
class MonthFacts:
    month: str
    scans: list[ScanFact] = field(default_factory=list)
    incidents: list[IncidentFact] = field(default_factory=list)
    lags_s: list[int] = field(default_factory=list)


@dataclass
class Counts:
    blocks: int = 0
    holds: int = 0
    incidents: int = 0

    @property
    def total(self) -> int:
        return self.blocks + self.holds + self.incidents


@dataclass
class Review:
    month: str
    totals: Counts
    by_hour: list[Counts]
    by_category: dict[str, Counts]
    by_station: dict[str, Counts]
    by_packer: dict[str, Counts]
    by_cause: dict[str, int]
    lag_buckets: list[tuple[str, int]]
    lag_median_s: int | None
    intercept_tried: int
    intercept_ok: int
    losses: Ledger
    losses_by_warehouse: dict[str, Ledger]
    gate_late: int  # incidents whose PASS came after the refund had succeeded
    gate_early: int  # incidents whose PASS came before the refund succeeded

    @property
    def intercept_rate(self) -> float | None:
        return self.intercept_ok / self.intercept_tried if self.intercept_tried else None


def parse_month(text: str) -> str:
    """'2026-11' as given, or ValueError (with a zh-CN message)."""
    found = MONTH.match(text or "")
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise ValueError("月份格式应为 YYYY-MM，例如 2026-11")
    return text


def month_of(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m")


def month_range(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a China-time month, in UTC."""
    year, number = map(int, parse_month(month).split("-"))
    start = datetime(year, number, 1, tzinfo=CHINA)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CHINA)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(month: str) -> str:
    year, number = map(int, parse_month(month).split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def hour_of(moment: datetime) -> int:
    return moment.astimezone(CHINA).hour


def lag_bucket(seconds: int) -> int:
    """The index into LAG_LABELS; a negative lag (clocks disagree) counts as the shortest."""
    return next((i for i, edge in enumerate(LAG_EDGES) if seconds <= edge), len(LAG_EDGES))


def _count(counts: Counts, what: str) -> None:
    if what == Decision.BLOCK:
        counts.blocks += 1
    elif what == Decision.HOLD:
        counts.holds += 1
    else:
        counts.incidents += 1


def _ranked(table: dict[str, Counts]) -> dict[str, Counts]:
    return dict(sorted(table.items(), key=lambda kv: (-kv[1].total, kv[0])))


def review(facts: MonthFacts) -> Review:
    totals, by_hour = Counts(), [Counts() for _ in range(24)]
    tables: dict[str, dict[str, Counts]] = {"category": {}, "station": {}, "packer": {}}
    rows = [(s.decision, s.at, s.station, s.packer, s.categories) for s in facts.scans]
    rows += [("INCIDENT", i.at, i.station, i.packer, i.categories) for i in facts.incidents]
    for what, at, station, packer, categories in rows:
        _count(totals, what)
        _count(by_hour[hour_of(at)], what)
        for name in sorted(set(categories)) or [UNKNOWN_CATEGORY]:
            _count(tables["category"].setdefault(name, Counts()), what)
        _count(tables["station"].setdefault(station, Counts()), what)
        _count(tables["packer"].setdefault(packer, Counts()), what)
    buckets = Counter(lag_bucket(s) for s in facts.lags_s)
    races = [i.race_window_s for i in facts.incidents if i.race_window_s is not None]
    return Review(
        month=facts.month,
        totals=totals,
        by_hour=by_hour,
        by_category=_ranked(tables["category"]),
        by_station=_ranked(tables["station"]),
        by_packer=_ranked(tables["packer"]),
        by_cause=dict(Counter(i.cause for i in facts.incidents).most_common()),
        lag_buckets=[(label, buckets.get(i, 0)) for i, label in enumerate(LAG_LABELS)],
        lag_median_s=median_low(facts.lags_s) if facts.lags_s else None,
        intercept_tried=sum(1 for i in facts.incidents if i.intercept_tried),
        intercept_ok=sum(1 for i in facts.incidents if i.intercept_ok),
        losses=total(i.ledger for i in facts.incidents),
        losses_by_warehouse=dict(sorted(totals_by((i.warehouse, i.ledger) for i in facts.incidents).items())),
        gate_late=sum(1 for r in races if r > 0),
        gate_early=sum(1 for r in races if r <= 0),
    )


@dataclass(frozen=True)
class Comparison:
    label: str
    current: float | int | None
    previous: float | int | None
    unit: str = ""  # "fen", "%" or ""
    higher_is_better: bool = False

    @property
    def trend(self) -> str:
        """'better', 'worse' or '' (no change, or nothing to compare)."""
        if not self.delta:
            return ""
        return "better" if (self.delta > 0) == self.higher_is_better else "worse"

    @property
    def delta(self) -> float | int | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


def compare(current: Review, previous: Review) -> list[Comparison]:
    """The month's headline numbers against the previous month's."""

    def rate(r: Review) -> float | None:
        return None if r.intercept_rate is None else round(r.intercept_rate * 100, 1)

    return [
        Comparison("拦截（BLOCK）", current.totals.blocks, previous.totals.blocks, higher_is_better=True),
        Comparison("暂停（HOLD）", current.totals.holds, previous.totals.holds, higher_is_better=True),
        Comparison("退款后已发货事件", current.totals.incidents, previous.totals.incidents),
        Comparison("其中放行晚于退款成功", current.gate_late, previous.gate_late),
        Comparison("拦截成功率", rate(current), rate(previous), "%", higher_is_better=True),
        Comparison("净损失", current.losses.net_loss, previous.losses.net_loss, "fen"),
    ]
