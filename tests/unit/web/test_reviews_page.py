"""The identity reviews page: both people side by side, what matched, links to both timelines, a decision form;
and the worklist's review line leading to it."""

from __future__ import annotations

from services.web.pages.reviews import reviews_body
from services.web.pages.worklist import worklist_line
from services.web.reviews import said_about
from services.web.upstream import Answer

REVIEW = {"review_id": "rev-a-b", "person_id": "p-b", "other_person_id": "p-a",
          "matched": ["last_name", "first_names", "birth_date"], "missing": ["nir"], "status": "pending",
          "opened_at": "2026-03-02T09:00:00Z",
          "shown": [{"person_id": "p-b", "identity": {"last_name": "Martin", "first_names": "Léa",
                                                       "birth_date": "1999-05-14"}, "disclosure_id": "dis-1"},
                    {"person_id": "p-a", "identity": None, "disclosure_id": None}]}


def test_a_pending_review_shows_both_people_and_a_form() -> None:
    html = reviews_body({"items": [REVIEW]}, "tok")
    assert 'id="revue-rev-a-b"' in html and "1 revue en attente" in html
    assert "nom, prénoms, date de naissance" in html and "NIR (numéro de sécurité sociale)" in html
    assert '<a href="/personnes/p-b">p-b</a>' in html and '<a href="/personnes/p-a">p-a</a>' in html
    assert "<td>Martin</td>" in html and "<td>14/05/1999</td>" in html
    assert 'action="/revues"' in html and 'name="review_id" value="rev-a-b"' in html
    assert 'value="same_person"' in html and 'value="different_people"' in html and 'name="csrf" value="tok"' in html
    assert "chaque identité affichée est enregistrée" in html


def test_no_review_pending() -> None:
    assert "Aucune revue d'identité en attente." in reviews_body({"items": []}, "tok")


def test_the_worklist_line_of_a_review_links_to_its_form() -> None:
    row = worklist_line({"person_id": "p-b", "kind": "identity_review", "answer_id": "rev-a-b"}, 0, csrf="tok",
                        day="", back="/liste", names={})
    assert '<a href="/revues#revue-rev-a-b">Décider de cette revue</a>' in row and "Revue d&#x27;identité" in row


def test_intakes_answers_are_said_in_french() -> None:
    assert said_about(Answer(200, {"decision": "different_people"}), "rev-1")[0] == "ok"
    assert "réunis sous p-a" in said_about(Answer(200, {"decision": "same_person", "kept_person_id": "p-a"}),
                                           "rev-1")[1]
    assert "déjà été décidée" in said_about(Answer(409, {}, "x"), "rev-1")[1]
    assert "aucune donnée personnelle" in said_about(Answer(422, {}, "x"), "rev-1")[1]
