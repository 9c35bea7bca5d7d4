"""Charts as inline SVG, drawn on the server: no JavaScript, nothing fetched by the browser.

Pure and deterministic (same figures, same markup), so they are tested as text. Colours come from classes of
the page's own stylesheet (a Content-Security-Policy without inline styles); each chart carries a <title> and
a <desc> saying its figures in words, and the page puts the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.web.pages.markup import esc

WIDTH = 640
LABEL_W = 250  # room for the French labels left of the bars
ROW_H = 34
BAR_H = 20
PAD = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str = "neutral"  # a class of the stylesheet: neutral, alert, good


@dataclass(frozen=True)
class Span:
    """A delay's spread: first decile, median and ninth decile, in days, over `count` cases (None: no case)."""

    label: str
    low: int | None
    median: int | None
    high: int | None
    count: int


def _scale(maximum: int) -> float:
    return (WIDTH - LABEL_W - PAD * 2 - 40) / max(1, maximum)


def _frame(ident: str, title: str, desc: str, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{ident}-t {ident}-d">'
            f'<title id="{ident}-t">{esc(title)}</title><desc id="{ident}-d">{esc(desc)}</desc>{body}</svg>')


def bar_chart(ident: str, title: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, one per figure, the value written at the end of each bar."""
    scale = _scale(max((b.value for b in bars), default=0))
    rows = []
    for i, bar in enumerate(bars):
        y = PAD + i * ROW_H
        width = max(0, round(bar.value * scale))
        rows.append(
            f'<text class="label" x="{LABEL_W - 8}" y="{y + BAR_H - 5}" text-anchor="end">{esc(bar.label)}</text>'
            f'<rect class="bar {esc(bar.tone)}" x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}"></rect>'
            f'<text class="value" x="{LABEL_W + width + 6}" y="{y + BAR_H - 5}">{bar.value}</text>')
    desc = " ; ".join(f"{b.label} : {b.value}" for b in bars) or "aucune donnée"
    return _frame(ident, title, desc, PAD * 2 + ROW_H * max(1, len(bars)), "".join(rows))


def span_chart(ident: str, title: str, spans: Sequence[Span]) -> str:
    """For each delay, a band from the first to the ninth decile and a mark at the median, in days."""
    scale = _scale(max((s.high or 0 for s in spans), default=0))
    rows = []
    for i, span in enumerate(spans):
        y = PAD + i * ROW_H
        rows.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + BAR_H - 5}" text-anchor="end">'
                    f'{esc(span.label)}</text>')
        if span.count == 0 or span.median is None:
            rows.append(f'<text class="value" x="{LABEL_W}" y="{y + BAR_H - 5}">aucun cas</text>')
            continue
        low, high = span.low if span.low is not None else span.median, span.high if span.high is not None else span.median
        x0, x1, xm = (LABEL_W + round(v * scale) for v in (low, high, span.median))
        rows.append(f'<rect class="band" x="{x0}" y="{y + 4}" width="{max(2, x1 - x0)}" height="{BAR_H - 8}"></rect>'
                    f'<rect class="median" x="{xm - 2}" y="{y}" width="4" height="{BAR_H}"></rect>'
                    f'<text class="value" x="{max(x1, xm) + 8}" y="{y + BAR_H - 5}">médiane {span.median} j</text>')
    desc = " ; ".join(
        f"{s.label} : médiane {s.median} jours, de {s.low} à {s.high} jours pour 8 cas sur 10 ({s.count} cas)"
        if s.count and s.median is not None else f"{s.label} : aucun cas" for s in spans) or "aucune donnée"
    return _frame(ident, title, desc, PAD * 2 + ROW_H * max(1, len(spans)), "".join(rows))
