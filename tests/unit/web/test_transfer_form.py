"""The transfer form: what is checked before anything is sent, the events it becomes, and the page showing it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from contracts.caseload import CaseloadTransferred
from contracts.vocabulary import TransferReason
from services.web.pages.transfers import not_offered_body, transfers_body
from services.web.transfer_event import batches, transfer_event
from services.web.transfer_form import TransferForm, TransferRequest, check

OWN = "mission_locale_angevine"
STRUCTURES = {OWN: "Mission locale angevine", "plie_angers": "PLIE d'Angers"}
HELD = ["p-1", "p-2", "p-3"]
SENT_AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def form(*extra: tuple[str, str], **fields: str) -> TransferForm:
    values = {"transfer_id": "tr-web-1", "vers": "plie_angers", "le": "2026-03-02", "motif": "specialised_support",
              **fields}
    return TransferForm.of([*values.items(), *extra])


def test_the_ticked_people_move_to_the_chosen_structure() -> None:
    asked = check(form(("personne", "p-1"), ("personne", "p-3"), ("personne", "p-1")), OWN, STRUCTURES, HELD)
    assert asked == TransferRequest("tr-web-1", ("p-1", "p-3"), None, "plie_angers", None, date(2026, 3, 2),
                                    TransferReason.SPECIALISED_SUPPORT, None)


def test_the_whole_caseload_is_whoever_is_held_when_the_form_comes_back() -> None:
    asked = check(form(tout="oui"), OWN, STRUCTURES, HELD)
    assert isinstance(asked, TransferRequest) and asked.people == tuple(HELD)


def test_every_problem_is_said_in_french_at_once() -> None:
    problems = check(form(vers="nowhere", le="", motif="whim", vers_conseiller="Mme Martin"), OWN, STRUCTURES, HELD)
    assert problems == ["Choisissez la structure qui reprend le suivi.",
                        "La référence du conseiller qui reprend ne peut contenir que des lettres sans accent, des "
                        "chiffres et les signes - _ . : (64 caractères au plus), jamais un nom.",
                        "Indiquez la date à partir de laquelle le transfert prend effet.",
                        "Choisissez le motif du transfert.",
                        "Cochez au moins une personne, ou « Tout le portefeuille »."]


def test_someone_handed_over_since_is_refused_by_id() -> None:
    problems = check(form(("personne", "p-9")), OWN, STRUCTURES, HELD)
    assert problems == ["Ces personnes ne sont plus dans le portefeuille (transférées entre-temps ?) : p-9."]


def test_a_transfer_must_change_the_holder() -> None:
    problems = check(form(("personne", "p-1"), vers=OWN), OWN, STRUCTURES, HELD)
    assert problems == ["Le transfert doit changer de structure ou de conseiller : choisissez qui reprend le suivi."]
    assert isinstance(check(form(("personne", "p-1"), vers=OWN, vers_conseiller="ml-c-7"), OWN, STRUCTURES, HELD),
                      TransferRequest)


def test_one_event_per_person_with_an_id_from_the_transfer_and_the_person() -> None:
    event = transfer_event("tr-web-1", "p-1", OWN, None, "plie_angers", "pl-c-1", date(2026, 3, 2),
                           TransferReason.SPECIALISED_SUPPORT, None, SENT_AT)
    assert isinstance(event, CaseloadTransferred) and event.id == "tr-web-1:p-1"
    assert event.source == event.data.from_structure == OWN and event.subject == "p-1"
    again = transfer_event("tr-web-1", "p-1", OWN, None, "plie_angers", "pl-c-1", date(2026, 3, 2),
                           TransferReason.SPECIALISED_SUPPORT, None, SENT_AT)
    assert again.to_json_bytes() == event.to_json_bytes()  # sent twice: the same event, a duplicate for intake


def test_batches_are_json_arrays_of_at_most_the_batch_size() -> None:
    events = [transfer_event("tr-x", f"p-{n}", OWN, None, "plie_angers", None, date(2026, 3, 2),
                             TransferReason.OTHER, None, SENT_AT) for n in range(5)]
    bodies = [json.loads(b) for b in batches(events, size=2)]
    assert [len(b) for b in bodies] == [2, 2, 1]
    assert [e["id"] for b in bodies for e in b] == [f"tr-x:p-{n}" for n in range(5)]


def test_the_page_lists_the_caseload_with_boxes_and_the_territory_structures() -> None:
    answer = {"total": 2, "items": [{"person_id": "p-1", "file_number": "ML-12", "counsellor": "ml-c-1"},
                                    {"person_id": "p-<2>", "file_number": None, "counsellor": None}]}
    html = transfers_body(answer, own=OWN, structures=STRUCTURES, csrf="tok", transfer_id="tr-web-1",
                          counsellor="", today="2026-03-02")
    assert 'name="csrf" value="tok"' in html and 'name="transfer_id" value="tr-web-1"' in html
    assert '<input type="checkbox" name="personne" value="p-1" id="p0">' in html
    assert '<label for="p0">ML-12</label>' in html and "p-&lt;2&gt;" in html and "<2>" not in html
    assert 'name="tout" value="oui"' in html and "Tout le portefeuille (2 personnes)" in html
    assert '<option value="plie_angers">PLIE d&#x27;Angers</option>' in html
    assert "Mission locale angevine (votre structure)" in html
    assert 'type="date" id="le" name="le" value="2026-03-02"' in html
    assert '<option value="counsellor_left">Départ du conseiller ou de la conseillère</option>' in html
    assert '<label for="vers">' in html and '<label for="motif">' in html and '<label for="note">' in html


def test_the_coordinator_and_an_auditor_read_why_there_is_no_form() -> None:
    assert "<form" not in not_offered_body(auditor=False)
    assert "coordination du territoire" in not_offered_body(auditor=False)
    assert "clé d&#x27;audit" in not_offered_body(auditor=True)
