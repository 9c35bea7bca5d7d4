"""Server-side sessions: the user's access key lives here, never in the page or the cookie.

Kept in this process's memory, on purpose:
- the key is the user's own secret; keeping it only in memory means no database, file or backup ever holds it;
- losing them costs little: a restart signs everyone out, and signing in again is typing one's key;
- so the page runs as one instance (deploy/kubernetes/base/services/web.yaml); several would need sticky
  sessions, or a shared store that would then hold keys at rest.
Sessions expire after `idle_s` without use and are bounded in number (least recently used goes first), so
memory cannot grow without bound. Ids are 256 random bits, compared as dictionary keys (never guessable).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "ariane_session"


@dataclass
class Session:
    id: str
    csrf: str  # the per-session token every form carries (csrf.py)
    last_seen: float
    token: str | None = None  # the user's access key; None before sign-in (the sign-in form has a session too)
    structure: str | None = None  # whose worklist followup answered with; None for the coordinator
    sees_everyone: bool = False
    reads_worklists: bool = True  # False for an auditor's key: timelines and reports, no worklist, no action
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, French message), shown once

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    @property
    def acts_for_a_structure(self) -> bool:
        """A structure's key (partner or counsellor): the one kind that may send its structure's events."""
        return self.structure is not None and not self.sees_everyone and self.reads_worklists

    def say(self, kind: str, message: str) -> None:
        self.flash.append((kind, message))

    def take_flash(self) -> list[tuple[str, str]]:
        messages, self.flash = self.flash, []
        return messages


class Sessions:
    def __init__(self, idle_s: float, max_sessions: int) -> None:
        self.idle_s = idle_s
        self.max_sessions = max_sessions
        self._by_id: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, session_id: str | None, now: float) -> Session | None:
        session = self._by_id.get(session_id or "")
        if session is None:
            return None
        if now - session.last_seen > self.idle_s:
            del self._by_id[session.id]
            return None
        session.last_seen = now
        self._by_id.move_to_end(session.id)
        return session

    def new(self, now: float) -> Session:
        self._prune(now)
        session = Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), last_seen=now)
        self._by_id[session.id] = session
        return session

    def sign_in(self, old: Session, token: str, structure: str | None, sees_everyone: bool, now: float,
                reads_worklists: bool = True) -> Session:
        """A fresh id and CSRF token at sign-in: an id planted before it (session fixation) is worth nothing."""
        self.drop(old)
        session = self.new(now)
        session.token, session.structure, session.sees_everyone = token, structure, sees_everyone
        session.reads_worklists = reads_worklists
        return session

    def drop(self, session: Session) -> None:
        self._by_id.pop(session.id, None)

    def _prune(self, now: float) -> None:
        for session_id in [s.id for s in self._by_id.values() if now - s.last_seen > self.idle_s]:
            del self._by_id[session_id]
        while len(self._by_id) >= self.max_sessions:
            self._by_id.popitem(last=False)
