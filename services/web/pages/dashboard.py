"""The coordinator's dashboard: people lost and found again, and the referral delays, from reporting's report.

Pure: the report's JSON (services/reporting/domain/report.py: `lost_reengaged`, `delays_days`,
`persons_by_state`) in, charts and their tables out. A figure the report lacks counts as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.web.labels import DELAY_STAGES, STATES, label
from services.web.pages.chart import Bar, Span, bar_chart, span_chart
from services.web.pages.markup import esc, french_date


def lost_bars(report: Mapping[str, Any]) -> list[Bar]:
    figures = report.get("lost_reengaged") or {}
    return [Bar("Perdus de vue sur la période", int(figures.get("lost") or 0), "alert"),
            Bar("Raccrochés sur la période", int(figures.get("reengaged") or 0), "good"),
            Bar("Perdus de vue aujourd'hui", int(figures.get("lost_now") or 0), "alert"),
            Bar("Alertes corrigées (faits tardifs)", int(figures.get("corrected") or 0), "neutral")]


def delay_spans(report: Mapping[str, Any]) -> list[Span]:
    delays = report.get("delays_days") or {}
    spans = []
    for stage, text in DELAY_STAGES.items():
        stats = delays.get(stage) or {}
        spans.append(Span(text, stats.get("d1"), stats.get("median"), stats.get("d9"), int(stats.get("count") or 0)))
    return spans


def state_bars(report: Mapping[str, Any]) -> list[Bar]:
    totals: dict[str, int] = {}
    for row in report.get("persons_by_state") or []:
        totals[str(row.get("state"))] = totals.get(str(row.get("state")), 0) + int(row.get("persons") or 0)
    tone = {"lost": "alert", "at_risk": "alert", "in_employment": "good", "closed": "neutral"}
    return [Bar(label(STATES, state), count, tone.get(state, "neutral"))
            for state, count in sorted(totals.items(), key=lambda kv: -kv[1])]


def _table(caption: str, headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + f'<th scope="row">{esc(r[0])}</th>' + "".join(f"<td>{esc(v)}</td>" for v in r[1:])
                   + "</tr>" for r in rows)
    return (f'<details class="figures"><summary>Voir les chiffres : {esc(caption)}</summary><table><caption>'
            f'{esc(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>')


def dashboard_body(report: Mapping[str, Any]) -> str:
    period = report.get("period") or {}
    start = french_date(period.get("start")) if period.get("start") else "le début"
    lost, spans, states = lost_bars(report), delay_spans(report), state_bars(report)
    return (
        f'<p>Territoire {esc(report.get("territory"))}, de {start} au {french_date(period.get("end"))}.</p>'
        '<section aria-labelledby="h-lost"><h2 id="h-lost">Perdus de vue et raccrochés</h2>'
        + bar_chart("lost", "Perdus de vue et raccrochés", lost)
        + _table("perdus de vue et raccrochés", ("Indicateur", "Personnes"), [(b.label, b.value) for b in lost])
        + '</section><section aria-labelledby="h-delays"><h2 id="h-delays">Délais des orientations</h2>'
        '<p>Pour chaque étape, la bande va du 1<sup>er</sup> au 9<sup>e</sup> décile (8 cas sur 10), '
        'le trait marque la médiane, en jours.</p>'
        + span_chart("delays", "Délais des orientations, en jours", spans)
        + _table("délais des orientations, en jours", ("Étape", "Cas", "1er décile", "Médiane", "9e décile"),
                 [(s.label, s.count, s.low, s.median, s.high) for s in spans])
        + '</section><section aria-labelledby="h-states"><h2 id="h-states">Où en sont les personnes</h2>'
        + bar_chart("states", "Personnes par situation aujourd'hui", states)
        + _table("personnes par situation", ("Situation", "Personnes"), [(b.label, b.value) for b in states])
        + "</section>")
