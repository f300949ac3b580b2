"""Bar charts as SVG text, drawn on the server: no JavaScript, no CDN, nothing to download.

Colours are presentation attributes (never style attributes), so the console's Content-Security-
Policy (style-src 'self') lets them through. Every bar carries a <title> with its exact number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

BLOCK, HOLD, INCIDENT, NEUTRAL = "#c62828", "#f59e0b", "#1d4ed8", "#475569"
FONT = 'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"'


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int | float]
    colour: str = NEUTRAL


def nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least `value` (and at least 1)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return float(next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _legend(series: list[Series], x: float, y: float) -> list[str]:
    parts = []
    for s in series:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{s.colour}"/>')
        parts.append(
            f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="12" fill="#1f2933">{escape(s.name)}</text>'
        )
        x += 28 + 13 * len(s.name)
    return parts


def bar_chart(
    title: str, labels: list[str], series: list[Series], *, width: int = 900, height: int = 260
) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    left, right, top, bottom = 40, 10, 34, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_max(max((v for s in series for v in s.values), default=0))
    group = plot_w / max(len(labels), 1)
    bar = max(group * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="14" font-weight="bold" fill="#1f2933">{escape(title)}</text>',
        *_legend(series, left + 14 * len(title) + 20, 16),
    ]
    for tick in (0, 0.5, 1):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#d9dee4"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#6b7280">'
            f"{_number(peak * tick)}</text>"
        )
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}"><title>{escape(label)} {escape(s.name)}：{_number(value)}</title></rect>'
            )
        parts.append(
            f'<text x="{left + (i + 0.5) * group:.1f}" y="{height - 10}" font-size="11" text-anchor="middle" '
            f'fill="#1f2933">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    title: str, labels: list[str], series: list[Series], *, width: int = 600, row: int = 28
) -> str:
    """Stacked horizontal bars, one row per label (long Chinese names read better this way)."""
    left, right, top = 130, 40, 44
    height = top + row * max(len(labels), 1) + 10
    plot_w = width - left - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = nice_max(max(totals, default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" {FONT}>',
        f'<text x="10" y="16" font-size="14" font-weight="bold" fill="#1f2933">{escape(title)}</text>',
        *_legend(series, 10, 36),
    ]
    if not labels:
        parts.append(f'<text x="{left}" y="{top + 16}" font-size="12" fill="#6b7280">本月没有记录</text>')
    for i, label in enumerate(labels):
        y, x = top + i * row, float(left)
        short = label if len(label) <= 10 else label[:9] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + row * 0.65:.1f}" font-size="12" text-anchor="end" fill="#1f2933">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        for s in series:
            w = plot_w * s.values[i] / peak
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{s.colour}">'
                    f"<title>{escape(label)} {escape(s.name)}：{_number(s.values[i])}</title></rect>"
                )
            x += w
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + row * 0.65:.1f}" font-size="12" fill="#1f2933">{_number(totals[i])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _three(counts: list) -> list[Series]:
    return [
        Series("拦截", [c.blocks for c in counts], BLOCK),
        Series("暂停", [c.holds for c in counts], HOLD),
        Series("退款后已发货", [c.incidents for c in counts], INCIDENT),
    ]


def review_charts(review) -> dict[str, str]:
    """The monthly review's charts (a server.incidents.review.Review), by name."""
    tables = {"category": ("按商品类目", review.by_category), "station": ("按工作站", review.by_station),
              "packer": ("按打包员", review.by_packer)}  # fmt: skip
    charts = {
        "hour": bar_chart("按小时（中国时间 0–23 时）", [str(h) for h in range(24)], _three(review.by_hour))
    }
    for name, (title, table) in tables.items():
        charts[name] = hbar_chart(title, list(table), _three(list(table.values())))
    charts["cause"] = hbar_chart(
        "退款后已发货事件按内部原因",
        list(review.by_cause),
        [Series("事件", list(review.by_cause.values()), INCIDENT)],
    )
    charts["lag"] = bar_chart(
        "退款成功 → 首次拦截扫描（订单数）",
        [label for label, _n in review.lag_buckets],
        [Series("订单", [n for _label, n in review.lag_buckets], NEUTRAL)],
        width=600,
        height=260,
    )
    return charts
