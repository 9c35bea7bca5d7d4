"""A worklist line as the page shows it: every field escaped, missing ones as a dash, a check-in form only
where there is a check-in to answer."""

from __future__ import annotations

from services.web.pages.worklist import WorklistQuery, worklist_body, worklist_line

LINE = {"person_id": "p-7f3a9c2e51", "structure_id": "france_travail_angers_centre", "file_number": "FT-0042",
        "kind": "checkin_missed", "answer_id": "chk-p-7f3a9c2e51-job-1", "reason": "checkin_missed",
        "expected": "Faire le suivi à 1 mois", "since": "2026-03-17", "days": 3,
        "timeline_url": "/v1/people/p-7f3a9c2e51/timeline"}
NAMES = {"france_travail_angers_centre": "France Travail Angers Centre"}


def render(item: dict) -> str:
    return worklist_line(item, 0, csrf="tok", day="2026-03-20", back="/liste?kind=lost", names=NAMES)


def test_a_checkin_line_links_the_timeline_and_carries_the_answer_form() -> None:
    row = render(LINE)
    assert '<th scope="row"><a href="/personnes/p-7f3a9c2e51">p-7f3a9c2e51</a></th>' in row
    assert "FT-0042" in row and "Suivi manqué" in row and "17/03/2026" in row
    assert 'title="france_travail_angers_centre">France Travail Angers Centre<' in row
    assert 'action="/reponses"' in row and 'name="csrf" value="tok"' in row
    assert 'name="checkin_id" value="chk-p-7f3a9c2e51-job-1"' in row and 'name="day" value="2026-03-20"' in row
    assert '<label for="r0-oui">Oui</label>' in row and '<label for="s0">Situation</label>' in row
    assert 'value="in_employment">En emploi<' in row


def test_missing_fields_show_a_dash_and_no_form() -> None:
    row = render({"person_id": "p-1", "kind": "lost"})
    assert row.count("—") >= 6
    assert "<form" not in row
    assert render({**LINE, "answer_id": None}).count("<form") == 0  # nothing to answer without the check-in id


def test_other_kinds_have_no_checkin_form() -> None:
    assert "<form" not in render({**LINE, "kind": "referral_expiring", "answer_id": "ref-1"})


def test_what_followup_says_is_escaped() -> None:
    row = render({**LINE, "expected": '<script>alert("x")</script>', "person_id": 'p"><b>'})
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert 'p"><b>' not in row


def test_the_page_keeps_filters_in_links_and_the_csv_download() -> None:
    query = WorklistQuery.parse({"kind": "lost", "q": "FT", "page": "2", "page_size": "25", "sort": "since"})
    body = worklist_body({"today": "2026-03-20", "total": 60, "items": [LINE]}, query, csrf="tok",
                         sees_everyone=True, names=NAMES)
    assert 'href="/liste.csv?kind=lost&amp;q=FT&amp;sort=since"' in body
    assert "Page 2 sur 3" in body and 'page_size=25" rel="prev"' in body and "page=3" in body
    assert "60 lignes" in body and '<th scope="col">' in body
    assert 'id="f-structure"' in body  # the coordinator may pick a structure


def test_a_bad_query_string_falls_back_to_defaults() -> None:
    query = WorklistQuery.parse({"kind": "nope", "page": "-3", "page_size": "100000", "sort": "x"})
    assert query == WorklistQuery()
    assert WorklistQuery.parse({"kind": "at_risk", "q": " 42 "}).upstream() == {
        "sort": "urgency", "page": 1, "page_size": 50, "kind": "at_risk", "q": "42"}


def test_an_empty_choice_sends_an_empty_value_never_the_dash() -> None:
    # "Toutes" structures and "Tous" kinds once sent structure=— (the dash of a missing value): followup then
    # answered no line at all, and the CSV download held its header only.
    html = worklist_body({"items": [], "total": 0}, WorklistQuery(), csrf="tok", sees_everyone=True, names=NAMES)
    assert '<option value="" selected>Toutes</option>' in html and '<option value="" selected>Tous</option>' in html
    assert 'value="—"' not in html
    row = render({**LINE, "structure_id": None})
    assert 'name="structure_id" value=""' in row and 'value="—"' not in row
