"""Caseload transfers: people handed over from one structure to another, by reason, in the period.

Counted on the day each transfer takes effect. A handover between two counsellors of one structure counts
too (from and to are the same structure): it is work the structure did, and a coordinator watches it.
"""

from __future__ import annotations

from collections import defaultdict

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Views


class TransferRow(Row):
    from_structure: str
    to_structure: str
    reason: str
    transfers: int  # distinct transfer ids
    people: int  # distinct people moved


def transfers(v: Views, period: Period) -> list[TransferRow]:
    ids: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    people: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for t in v.transfers:
        m = t.moved
        if period.holds(m.day):
            key = (m.from_structure, m.to_structure, m.reason)
            ids[key].add(m.transfer_id)
            people[key].add(t.person)
    return [TransferRow(from_structure=f, to_structure=to, reason=r, transfers=len(ids[(f, to, r)]),
                        people=len(people[(f, to, r)])) for f, to, r in sorted(ids)]
