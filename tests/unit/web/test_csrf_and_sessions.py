"""CSRF tokens and server-side sessions: what the page checks before doing anything for a browser."""

from __future__ import annotations

from services.web.csrf import csrf_ok
from services.web.sessions import Sessions


def test_csrf_token_must_match_exactly() -> None:
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", "abd")
    assert not csrf_ok("abc", "")
    assert not csrf_ok("abc", None)
    assert not csrf_ok(None, None)  # no session, no token: refused, never "both empty, equal"
    assert not csrf_ok("", "")


def test_sessions_expire_when_idle_and_are_bounded() -> None:
    sessions = Sessions(idle_s=60, max_sessions=10)
    first = sessions.new(now=0)
    assert sessions.get(first.id, now=59) is first
    assert sessions.get(first.id, now=59 + 61) is None  # idle since its last use
    for i in range(25):
        sessions.new(now=200 + i)
    assert len(sessions) <= 10


def test_sign_in_gives_a_new_id_and_csrf_token() -> None:
    sessions = Sessions(idle_s=60, max_sessions=10)
    before = sessions.new(now=0)
    after = sessions.sign_in(before, "ak_x.y", None, sees_everyone=True, now=1)
    assert after.id != before.id and after.csrf != before.csrf
    assert sessions.get(before.id, now=2) is None  # an id planted before sign-in is worth nothing
    assert sessions.get(after.id, now=2).token == "ak_x.y"


def test_flash_messages_are_shown_once() -> None:
    session = Sessions(idle_s=60, max_sessions=10).new(now=0)
    session.say("ok", "Réponse enregistrée")
    assert session.take_flash() == [("ok", "Réponse enregistrée")]
    assert session.take_flash() == []
