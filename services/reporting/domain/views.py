"""The state read as typed documents for the report: identity merges resolved, people merged, and "today".

Identity merges are kept as aliases in the state and resolved here, so events about the merged person that
arrive after the merge still end up on the kept person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.reporting.domain.documents import (
    Accepted,
    Attribute,
    Closure,
    Dated,
    Doc,
    Entry,
    Exit,
    Expiry,
    Holding,
    Identified,
    Issued,
    JobEnd,
    JobStart,
    Lifted,
    LostEpisode,
    Moved,
    Reengagement,
    Refused,
    Registration,
    State,
    TrainingEnd,
    TrainingStart,
    join,
)


@dataclass(frozen=True)
class Person:
    reg: Registration | None = None
    attr: Mapping[str, Attribute] = field(default_factory=dict)
    holder: Holding | None = None
    lost: Mapping[str, LostEpisode] = field(default_factory=dict)
    reeng: Mapping[str, Reengagement] = field(default_factory=dict)
    corrected: Mapping[str, Reengagement] = field(default_factory=dict)  # lost episodes a late fact disproves
    closed: Closure | None = None
    first_ref: Dated | None = None

    def attribute(self, name: str) -> Any:
        entry = self.attr.get(name)
        return entry.value if entry else None


@dataclass(frozen=True)
class Referral:
    person: str
    issued: Issued | None = None
    ack: Dated | None = None
    accepted: Accepted | None = None
    refused: Refused | None = None
    expired: Mapping[str, Expiry] = field(default_factory=dict)
    appt: Dated | None = None
    withdrawn: Dated | None = None

    @property
    def pending(self) -> bool:
        """Issued and not yet answered: not accepted, refused, expired, withdrawn, nor met."""
        return self.issued is not None and not (self.accepted or self.refused or self.expired or self.appt
                                                or self.withdrawn)


@dataclass(frozen=True)
class Barrier:
    person: str
    identified: Identified | None = None
    lifted: Lifted | None = None


@dataclass(frozen=True)
class Stay:
    """A person's time in one dispositif: every entry and exit."""

    person: str
    dispositif: str
    entries: Mapping[str, Entry] = field(default_factory=dict)
    exits: Mapping[str, Exit] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    person: str
    started: JobStart | None = None
    ended: JobEnd | None = None


@dataclass(frozen=True)
class Training:
    person: str
    started: TrainingStart | None = None
    ended: TrainingEnd | None = None


@dataclass(frozen=True)
class Transfer:
    person: str
    moved: Moved


@dataclass(frozen=True)
class Views:
    persons: dict[str, Person]
    referrals: list[Referral]
    barriers: list[Barrier]
    stays: list[Stay]
    jobs: list[Job]
    trainings: list[Training]
    today: str  # the latest business day: the clock's, else the latest any fact carries ("" when none)
    transfers: list[Transfer] = field(default_factory=list)


def resolve(alias: Mapping[str, str], person: str) -> str:
    """Follow identity merges to the person_id that was kept (cycles stop where they loop)."""
    seen = {person}
    while person in alias and alias[person] not in seen:
        person = alias[person]
        seen.add(person)
    return person


def _person(doc: Doc) -> Person:  # positional: one call per person of the territory
    get = doc.get
    return Person(get("reg"), get("attr", {}), get("holder"), get("lost", {}), get("reeng", {}), get("corrected", {}),
                  get("closed"), get("first_ref"))


def _referral(doc: Doc, person: str) -> Referral:
    get = doc.get
    return Referral(person, get("issued"), get("ack"), get("accepted"), get("refused"), get("expired", {}),
                    get("appt"), get("withdrawn"))


def _barrier(doc: Doc, person: str) -> Barrier:
    return Barrier(person, identified=doc.get("identified"), lifted=doc.get("lifted"))


def _stay(doc: Doc, person: str) -> Stay:
    return Stay(person, doc["dispositif"], entries=doc.get("entries", {}), exits=doc.get("exits", {}))


def _job(doc: Doc, person: str) -> Job:
    return Job(person, started=doc.get("job_started"), ended=doc.get("job_ended"))


def _training(doc: Doc, person: str) -> Training:
    return Training(person, started=doc.get("trn_started"), ended=doc.get("trn_ended"))


def _days_of(doc: Doc) -> Iterator[str]:
    """Every business day a document's facts carry (rows and keyed rows with a `day`)."""
    for value in doc.values():
        if isinstance(value, tuple) and hasattr(value, "day"):
            yield value.day
        elif isinstance(value, dict):
            yield from (entry.day for entry in value.values() if hasattr(entry, "day"))


def views(state: State) -> Views:
    """Runs once per report over the whole state (the replay's and the store's): a person's document is read as
    it is (its `kind` is no field of `Person`), copied only when another person was merged into it, and ids
    are resolved through merges only when there are any."""
    alias = {key.split(":", 1)[1]: doc["kept"].person for key, doc in state.items() if doc.get("kind") == "alias"}
    persons: dict[str, Doc] = {}
    by_kind: dict[str, list[Doc]] = defaultdict(list)
    latest = ""
    for key in sorted(state):
        doc = state[key]
        kind = doc.get("kind")
        if kind == "person":
            pid = key.split(":", 1)[1]
            if alias:
                pid = resolve(alias, pid)
            known = persons.get(pid)  # a person merged into another joins the kept person's facts
            persons[pid] = doc if known is None else join(known, doc)
        elif kind == "clock":
            latest = max(latest, doc["day"])
        elif kind in ("referral", "barrier", "stay", "job", "training", "transfer"):
            by_kind[kind].append(doc)
    if not latest:  # no clock ticks: the latest business day any fact carries
        latest = max((day for doc in state.values() for day in _days_of(doc)), default="")

    def owned(kind: str, build) -> list:  # noqa: ANN001 - one of the builders above
        if not alias:
            return [build(doc, doc["person"]) for doc in by_kind[kind]]
        return [build(doc, resolve(alias, doc["person"])) for doc in by_kind[kind]]

    referrals, stays = owned("referral", _referral), owned("stay", _stay)
    unknown = {a.event_id for r in referrals if r.issued is None for a in (r.accepted, r.appt) if a is not None}
    people = {pid: _person(doc) for pid, doc in persons.items()}
    if unknown:
        for pid, person in people.items():
            if person.holder is not None and person.holder.event_id in unknown:
                people[pid] = _held_by_known_referrals(person, pid, referrals, stays)
    transfers = owned("transfer", lambda doc, person: Transfer(person, doc["moved"]))
    return Views(people, referrals, owned("barrier", _barrier), stays, owned("job", _job),
                 owned("training", _training), latest, transfers)


def _held_by_known_referrals(person: Person, pid: str, referrals: list[Referral], stays: list[Stay]) -> Person:
    """An acceptance (or first appointment) of a referral Ariane never received holds nobody (the referral service
    keeps it waiting, then drops it): for a person whose latest holder comes from one, the holder is the latest of
    the others (registration, dispositif entries, answers to referrals received). Followup takes the same view;
    unlike followup, the report does not know when facts arrived, so a referral that comes after the answer's wait
    still makes it count here."""
    mine = [r for r in referrals if r.person == pid]
    candidates = [Holding(r.accepted.time, r.accepted.event_id, r.accepted.structure)
                  for r in mine if r.issued is not None and r.accepted is not None]
    candidates += [Holding(r.appt.time, r.appt.event_id, r.issued.to_structure)
                   for r in mine if r.issued is not None and r.appt is not None]
    candidates += [Holding(e.time, event_id, e.structure) for stay in stays if stay.person == pid
                   for event_id, e in stay.entries.items()]
    if person.reg is not None:
        candidates.append(Holding(person.reg.time, person.reg.event_id, person.reg.structure))
    return replace(person, holder=max(candidates, default=None))
