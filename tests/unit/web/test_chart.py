"""The dashboard's SVG charts: deterministic markup, proportional bars, figures in words for screen readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from services.web.pages.chart import Bar, Span, bar_chart, span_chart
from services.web.pages.dashboard import dashboard_body, delay_spans, lost_bars


def widths(svg: str) -> list[int]:
    return [int(w) for w in re.findall(r'<rect class="bar [a-z]+" x="\d+" y="\d+" width="(\d+)"', svg)]


def test_bars_are_proportional_and_the_svg_is_well_formed() -> None:
    svg = bar_chart("t", "Titre", [Bar("a", 10), Bar("b", 5), Bar("c", 0)])
    ET.fromstring(svg)  # parses as XML
    assert widths(svg) == [widths(svg)[0], widths(svg)[0] // 2, 0]
    assert 'role="img"' in svg and '<title id="t-t">Titre</title>' in svg
    assert "<desc id=\"t-d\">a : 10 ; b : 5 ; c : 0</desc>" in svg
    assert bar_chart("t", "Titre", [Bar("a", 10)]) == bar_chart("t", "Titre", [Bar("a", 10)])


def test_no_figure_draws_no_bar_and_never_divides_by_zero() -> None:
    assert widths(bar_chart("t", "T", [Bar("a", 0)])) == [0]
    ET.fromstring(bar_chart("t", "T", []))


def test_labels_are_escaped() -> None:
    svg = bar_chart("t", "T & <co>", [Bar("<b>", 1)])
    ET.fromstring(svg)
    assert "&lt;b&gt;" in svg


def test_a_delay_span_marks_the_median_between_the_deciles() -> None:
    svg = span_chart("d", "Délais", [Span("Acceptation", 2, 5, 20, 40), Span("Rendez-vous", None, None, None, 0)])
    ET.fromstring(svg)
    band = re.search(r'<rect class="band" x="(\d+)" y="\d+" width="(\d+)"', svg)
    median = re.search(r'<rect class="median" x="(\d+)"', svg)
    assert band and median
    assert int(band[1]) <= int(median[1]) + 2 <= int(band[1]) + int(band[2])
    assert "aucun cas" in svg and "médiane 5 jours, de 2 à 20 jours" in svg


def test_the_dashboard_reads_the_report_shape_and_tolerates_gaps() -> None:
    report = {"territory": "angers", "period": {"start": None, "end": "2026-12-31"},
              "lost_reengaged": {"lost": 7, "reengaged": 3, "lost_now": 4, "corrected": 1},
              "delays_days": {"referral_to_acceptance": {"count": 12, "d1": 1, "median": 4, "d9": 15}},
              "persons_by_state": [{"state": "lost", "structure": "a", "persons": 2},
                                   {"state": "lost", "structure": "b", "persons": 2}]}
    assert [b.value for b in lost_bars(report)] == [7, 3, 4, 1]
    assert [s.count for s in delay_spans(report)] == [0, 12, 0]
    body = dashboard_body(report)
    assert body.count("<svg") == 3 and "Perdue de vue" in body and "31/12/2026" in body
    assert dashboard_body({}).count("<svg") == 3
