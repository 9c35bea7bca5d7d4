"""A partner's text holding U+0000 is refused at intake, with where it is (PostgreSQL cannot store it)."""

from services.intake.domain.checks import nul_characters


def test_a_clean_event_has_no_nul_problem() -> None:
    assert nul_characters({"id": "e-1", "source": "mission_locale", "data": {"note": ["a", "b"]}}) == []


def test_nul_in_an_id_a_nested_value_and_a_key_is_named_each_time() -> None:
    raw = {"id": "e\x00-1", "data": {"history": ["fine", "bad\x00"], "k\x00": "v"}}
    places = sorted(problem.loc for problem in nul_characters(raw))
    assert places == ["data.history[1]", "data.k\x00", "id"]
    assert {problem.type for problem in nul_characters(raw)} == {"string_nul"}
