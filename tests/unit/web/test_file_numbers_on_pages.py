"""The page's file numbers come from intake with the user's key; when intake cannot answer, every line is still
shown, each person by their id, its number said to be unavailable."""

from __future__ import annotations

import asyncio
import csv
import io

from services.web import file_numbers
from services.web.pages.worklist import WorklistQuery, worklist_body
from services.web.upstream import Answer, problem_of

ML, CAP = "mission_locale_angevine", "cap_emploi_49"
LINA, YANIS = "p_" + "a" * 32, "p_" + "b" * 32
LINES = [{"person_id": LINA, "structure_id": ML, "file_number": None, "kind": "checkin_due", "answer_id": "chk-1"},
         {"person_id": YANIS, "structure_id": CAP, "file_number": None, "kind": "lost", "answer_id": None}]
NUMBERS = [{"person_id": LINA, "structure_id": ML, "file_number": "ML49-2026-0042"},
           {"person_id": LINA, "structure_id": CAP, "file_number": "CAP-2025-0007"}]


class Intake:
    def __init__(self, answers: bool) -> None:
        self.answers, self.asked = answers, []

    async def file_numbers(self, token: str, *, person_ids=None, file_numbers=None) -> Answer:  # noqa: ANN001
        self.asked.append((token, person_ids, file_numbers))
        if not self.answers:
            return Answer(0, problem=problem_of("intake", 0, None))
        found = [n for n in NUMBERS if n["person_id"] in (person_ids or []) or n["file_number"] in (file_numbers or [])]
        return Answer(200, {"items": found})


def _page(items: list[dict]) -> str:
    return worklist_body({"items": items, "total": len(items), "today": "2026-03-02"}, WorklistQuery(), csrf="c",
                         sees_everyone=True, names={})


def test_each_line_shows_its_own_structures_number_read_with_the_users_key():
    intake = Intake(answers=True)
    found = asyncio.run(file_numbers.lookup(intake, "ak_k.s", [i["person_id"] for i in LINES]))
    lines = file_numbers.with_numbers(LINES, found)
    assert [(i["person_id"], i["file_number"]) for i in lines] == [(LINA, "ML49-2026-0042"), (YANIS, None)]
    assert intake.asked == [("ak_k.s", sorted([LINA, YANIS]), None)]
    assert "ML49-2026-0042" in _page(lines) and "CAP-2025-0007" not in _page(lines)  # not this line's structure
    assert asyncio.run(file_numbers.person_searched(intake, "ak_k.s", "ML49-2026-0042")) == LINA
    assert asyncio.run(file_numbers.person_searched(intake, "ak_k.s", "chk-1")) == "chk-1"


def test_without_intake_every_line_is_shown_by_person_id_with_its_number_unavailable():
    intake = Intake(answers=False)
    found = asyncio.run(file_numbers.lookup(intake, "ak_k.s", [i["person_id"] for i in LINES]))
    assert found is None
    page = _page(file_numbers.with_numbers(LINES, found))
    assert LINA in page and YANIS in page and page.count(file_numbers.UNAVAILABLE) == 2
    assert asyncio.run(file_numbers.person_searched(intake, "ak_k.s", "ML49-2026-0042")) == "ML49-2026-0042"


def test_the_csv_download_carries_the_numbers_or_says_they_are_unavailable():
    followup_csv = ("person_id,structure_id,file_number,kind\n"
                    f"{LINA},{ML},,checkin_due\n{YANIS},{CAP},,lost\n").encode()
    for answers, expected in ((True, {LINA: "ML49-2026-0042", YANIS: ""}),
                              (False, {LINA: file_numbers.UNAVAILABLE, YANIS: file_numbers.UNAVAILABLE})):
        out = asyncio.run(file_numbers.csv_with_numbers(Intake(answers), "ak_k.s", followup_csv)).decode()
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["person_id"]: r["file_number"] for r in rows} == expected
        assert [r["kind"] for r in rows] == ["checkin_due", "lost"]
