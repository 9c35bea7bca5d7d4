"""Who may read which structure's file numbers, and how many may be asked at once.

Intake publishes no file number (a topic is kept forever and cannot be rewritten, so a number published there
would outlive the person's erasure). It keeps each structure's numbers in its own table instead, deleted by the
erasure, and answers them to the pages that show a worklist or a timeline:

- a structure's keys (partner, counsellor) read their own structure's numbers, nothing else: numbers the
  structure itself gave, so the answer teaches it nothing it did not send;
- the coordinator reads any structure's (it reads every worklist, each line with its structure's number);
- an auditor reads none (it reads timelines, pseudonymous, and no worklist).
"""

from __future__ import annotations

from services.intake.domain.disclosure import STRUCTURE_ROLES, Caller

MAX_ASKED = 1000  # ids and numbers per request: one worklist page at most (followup's page_size ≤ 1000)


class NotAllowed(Exception):
    """The caller may not read these numbers; the message says why, never whether a person exists."""


def structure_read(caller: Caller, asked: str | None) -> str | None:
    """Whose numbers `caller` reads when it asks for `asked` (None: not said): one structure, or None for every
    structure (the coordinator only). NotAllowed otherwise."""
    if caller.role == "coordinator":
        return asked
    if caller.role not in STRUCTURE_ROLES:
        raise NotAllowed(f"a {caller.role} key reads no file number: they are shown on worklists")
    if asked not in (None, caller.structure):
        raise NotAllowed("a structure reads its own file numbers only")
    return caller.structure
