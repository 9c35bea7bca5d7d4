"""The conservation ledger, pure: every known person is in exactly one state, and the counts say so.

The ledger counts move with each person's state change (`ledger_move`); `check_ledger` compares them with
what they must add up to and with a recount of the persons themselves. Nothing is ever corrected here: a
violation is reported, so that whoever reads it can find the cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def ledger_move(counts: dict[str, int], old: str | None, new: str | None) -> dict[str, int]:
    """Counts per state after one person moves from `old` to `new` (None: not counted, e.g. unknown or merged)."""
    out = dict(counts)
    if old is not None:
        out[old] = out.get(old, 0) - 1
    if new is not None:
        out[new] = out.get(new, 0) + 1
    return out


def ledger_balanced(counts: dict[str, int], known: int, merged: int) -> bool:
    """Each known person is in exactly one state: the counts sum to the known persons minus merged ids."""
    return all(v >= 0 for v in counts.values()) and sum(counts.values()) == known - merged


@dataclass(frozen=True)
class LedgerCheck:
    counts: dict[str, int]  # per state, as the ledger holds them (states at zero left out)
    recount: dict[str, int]  # per state, counted from the persons themselves
    known: int  # person ids ever seen
    merged: int  # ids merged into another one
    balanced: bool


def check_ledger(counts: Mapping[str, int], known: int, merged: int, recount: Mapping[str, int]) -> LedgerCheck:
    """The ledger balances when its counts are non-negative, sum to known - merged, and agree with a recount."""
    held = {state: n for state, n in counts.items() if n}
    again = dict(recount)
    return LedgerCheck(held, again, known, merged, ledger_balanced(held, known, merged) and held == again)
