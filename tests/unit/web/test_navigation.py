"""Each user is offered the pages the services would accept from their key: transfers for a structure's users,
identity reviews for the coordinator, neither for an auditor (who reads the dashboard and timelines)."""

from __future__ import annotations

from services.web.pages.layout import page
from services.web.sessions import Sessions


def nav_of(structure: str | None, sees_everyone: bool, reads_worklists: bool = True) -> str:
    sessions = Sessions(idle_s=60, max_sessions=10)
    session = sessions.sign_in(sessions.new(0), "ak_x.y", structure, sees_everyone=sees_everyone, now=0,
                               reads_worklists=reads_worklists)
    return page("Titre", "", session=session)


def test_a_structure_user_is_offered_transfers() -> None:
    html = nav_of("mission_locale_angevine", sees_everyone=False)
    assert 'href="/transferts"' in html and 'href="/revues"' not in html
    assert 'href="/liste"' in html and 'href="/tableau"' not in html  # reporting reads no structure's key
    assert "Connecté : mission_locale_angevine" in html


def test_the_coordinator_is_offered_identity_reviews() -> None:
    html = nav_of(None, sees_everyone=True)
    assert 'href="/revues"' in html and 'href="/transferts"' not in html
    assert 'href="/liste"' in html and 'href="/tableau"' in html


def test_an_auditor_reads_only() -> None:
    html = nav_of(None, sees_everyone=True, reads_worklists=False)
    assert 'href="/revues"' not in html and 'href="/transferts"' not in html
    assert 'href="/liste"' not in html and 'href="/tableau"' in html  # figures, never a worklist
    assert "audit (lecture seule)" in html
