"""The partner events the pipeline benchmark sends: a simulated territory year, cut into disjoint sets of people.

Partners learn person_ids and the ids of referrals and check-ins from Ariane (simulator/directory.py); a
benchmark that waited for those answers would time the wait, not the pipeline. So only the events a partner can
send without being told anything are used: each person's registration and the later events of the structure
that registered them (barriers, contacts, entries, exits, jobs...), which intake resolves by that structure's
own file number. Each part of the run gets people of its own, so that no event is about a person registered
in another part (another pipeline, or later than it).

Within a part the events go in rounds: every person's first event, then every person's second event, and so
on; so any two events about the same person are a whole round apart, and events of one round may be sent
together in any order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contracts.envelope import Envelope
from simulator.directory import Directory, Rewriter, Unresolved
from simulator.script import person_of_event_id
from simulator.year import simulate

PRESET = "territory"
EVENTS_PER_PERSON_GUESS = 5  # about six such events per person in a year of the preset; a margin below


@dataclass(frozen=True)
class Part:
    name: str
    events: list[Envelope]  # in rounds (see the module's docstring)
    people: int

    @property
    def rounds(self) -> list[list[Envelope]]:
        """The events as rounds: round k holds each person's k-th event."""
        out: list[list[Envelope]] = []
        seen: dict[str, int] = {}
        for event in self.events:
            person = person_of_event_id(event.id)
            k = seen.get(person, 0)
            seen[person] = k + 1
            if k == len(out):
                out.append([])
            out[k].append(event)
        return out


def sendable_by_person(people: int, seed: int) -> dict[str, list[Envelope]]:
    """Each simulated person's events that need no answer from Ariane, in the order they happen."""
    year = simulate(PRESET, people=people, seed=seed)
    rewriter = Rewriter(Directory())
    by_person: dict[str, list[Envelope]] = {}
    for day in year.stream():
        for event in day.events:
            try:
                prepared = rewriter.prepare(event)
            except Unresolved:
                continue
            if prepared is event:  # sent as generated: nothing to learn first
                by_person.setdefault(person_of_event_id(event.id), []).append(event)
    return by_person


def in_rounds(by_person: Sequence[list[Envelope]]) -> list[Envelope]:
    depth = max((len(events) for events in by_person), default=0)
    return [events[k] for k in range(depth) for events in by_person if k < len(events)]


def cut(by_person: Mapping[str, list[Envelope]], sizes: Mapping[str, int]) -> dict[str, Part]:
    """Parts of exactly the given sizes, each of whole people (the last person's events cut after a prefix,
    which keeps their order); raises when the year has too few events."""
    people = iter(by_person.values())
    parts: dict[str, Part] = {}
    for name, size in sizes.items():
        taken: list[list[Envelope]] = []
        count = 0
        while count < size:
            try:
                events = next(people)
            except StopIteration:
                raise ValueError(f"the simulated year has too few events for {name} ({count} of {size})") from None
            events = events[:size - count]
            taken.append(events)
            count += len(events)
        parts[name] = Part(name, in_rounds(taken), len(taken))
    return parts


def parts_of(sizes: Mapping[str, int], seed: int = 11) -> dict[str, Part]:
    """A year with enough people for every part (simulated again, larger, if the guess fell short)."""
    people = max(20, sum(sizes.values()) // EVENTS_PER_PERSON_GUESS + 10)
    while True:
        try:
            return cut(sendable_by_person(people, seed), sizes)
        except ValueError:
            people *= 2
