"""`ariane worklist`'s table: fits the terminal it is shown on, and is never cut when piped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cli.commands.worklist import render_table

LINE = {"person_id": "p_d0c5c6e1a9b8", "structure_id": "mission_locale_angevine", "file_number": "ML49-2026-0042",
        "kind": "checkin_due", "answer_id": "chk-0123456789abcdef-job-1m", "reason": "job+1m",
        "expected": "Suivi à 1 mois après la prise d'emploi : joindre la personne et répondre au suivi avant le "
                    "12/03/2026 (personne jointe ou non, sa situation).", "since": "2026-02-25", "days": 3}


def test_piped_output_keeps_every_character():
    text = render_table([LINE, {**LINE, "file_number": None, "kind": "lost", "answer_id": None}], None)
    lines = text.splitlines()
    assert LINE["expected"] in lines[1] and LINE["answer_id"] in lines[1] and "ML49-2026-0042" in lines[1]
    assert lines[2].startswith("p_d0c5c6e1a9b8")  # no file number of its own: the pseudonymous id
    assert "perdu de vue" in lines[2] and "—" in lines[2]
    assert lines[-1] == "2 ligne(s)"


def test_an_empty_worklist_says_so():
    assert render_table([], 80) == "Aucune ligne : personne n'attend d'action."


@given(st.integers(80, 250), st.text(min_size=1, max_size=200))
def test_a_terminal_table_fits_its_width(width, expected):
    """From 80 columns, the width of the smallest usual terminal."""
    text = render_table([LINE, {**LINE, "expected": expected.replace("\n", " ")}], width)
    assert all(len(line) <= width for line in text.splitlines())
    assert "ML49-2026-0042" in text.splitlines()[1]  # the file number is never what gets cut
