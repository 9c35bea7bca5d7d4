"""What followup forgets of an erased person, pure: the structures' file numbers, the one thing in a person's
file a structure's counsellors could tell them apart by. Every fact stays, with its kind, day and structure,
so the person's state, the ledger and every count stay what they were."""

from __future__ import annotations

from dataclasses import replace

from services.followup.domain.decisions import PersonFile
from services.followup.domain.facts import Fact
from services.followup.domain.unknown_facts import KEPT

SINGLING_OUT = ("file_number",)  # what a fact's `info` may hold that points at the person outside Ariane


def forgotten(fact: Fact) -> Fact:
    """The fact without what could single the person out, nor the bytes of the record an answer waiting for its
    fact came in (its dead letter, if it comes to that, then carries the reason alone)."""
    record = fact.info.get(KEPT)
    if not any(key in fact.info for key in SINGLING_OUT) and not (record and "original" in record):
        return fact
    info = {k: v for k, v in fact.info.items() if k not in SINGLING_OUT}
    if record:
        info[KEPT] = {k: v for k, v in record.items() if k != "original"}
    return replace(fact, info=info)


def forget_person(file: PersonFile) -> PersonFile:
    """The erased person's file: the same facts, none with a file number."""
    return replace(file, facts=tuple(forgotten(f) for f in file.facts))
