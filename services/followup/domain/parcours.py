"""The parcours as a pure fold over a person's facts: who holds them, since when, and any open gap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from services.followup.domain.answers import received_on, unanswerable
from services.followup.domain.facts import Fact
from services.followup.domain.unknown_facts import unknown_answers

# A hold is one reason a structure holds the person; its key says which (and what ends it).
ACCOMPANIED, DISPOSITIF, TRAINING, EMPLOYMENT = "accompanied", "dispositif", "training", "employment"


@dataclass(frozen=True)
class Hold:
    structure: str | None
    kind: str
    since: date
    origin: str | None = None  # the referral that created an accompaniment, so its expiry can undo it
    counsellor: str | None = None  # the structure's pseudonymous reference for who holds the person in it
    # The hold a refused referral leaves its issuer ("must find another way"), not an accompaniment of its own.
    fallback_of_refusal: bool = False
    # Such a hold while another structure has taken the person on: it keeps them held (no gap opens when that
    # structure lets go), but the one that took them on acts on their silence.
    in_background: bool = False


@dataclass(frozen=True)
class Gap:
    """Nobody holds the person since `since`, because of `reason`; `last_holder` was the last one who did."""

    since: date
    reason: str
    last_holder: str | None

    @property
    def key(self) -> str:
        return f"{self.reason}:{self.since.isoformat()}"


@dataclass(frozen=True)
class Anchor:
    """What post-exit check-ins count their months from."""

    kind: str  # "exit" or "job"
    ref: str
    day: date
    structure: str | None
    received: date | None = None  # the day followup received the fact (None: not known), for check-in answers


@dataclass
class Parcours:
    registered: bool = False
    holds: dict[str, Hold] = field(default_factory=dict)
    pending: dict[str, tuple[str, date | None]] = field(default_factory=dict)  # referral -> (to, due)
    issuers: dict[str, str] = field(default_factory=dict)  # referral -> from_structure
    referent: str | None = None  # the target of the latest orientation referral
    registered_by: str | None = None  # the structure that registered the person: their référent until oriented
    last_holder: str | None = None
    gap: Gap | None = None
    closures: dict[str, tuple[str | None, date]] = field(default_factory=dict)  # gap key -> (by, on)
    last_contact: date | None = None
    last_contact_by: str | None = None
    last_fact_day: date | None = None
    lasting_jobs: dict[str, date] = field(default_factory=dict)
    anchors: list[Anchor] = field(default_factory=list)
    checkins_done: dict[str, bool] = field(default_factory=dict)
    situation_moved_away: bool = False
    closed: tuple[str, date] | None = None
    structures: set[str] = field(default_factory=set)
    barriers: dict[str, str] = field(default_factory=dict)  # open barrier id -> kind
    expired: set[str] = field(default_factory=set)  # referrals expired (accept deadline)
    accepted: set[str] = field(default_factory=set)  # referrals accepted (on the acceptance's own date)
    gaps_opened: set[str] = field(default_factory=set)  # every gap key this parcours really had
    checkins_reached_on: dict[str, date] = field(default_factory=dict)  # check-in -> first day it reached them


def _gap_reason(kind: str) -> str:
    return {"job_ended": "job_ended_unheld", "referral_expired": "referral_expired",
            "referral_refused": "referral_expired"}.get(kind, "exit_without_next_step")


def _touch(p: Parcours, fact: Fact) -> None:
    if p.last_contact is None or fact.day >= p.last_contact:
        p.last_contact, p.last_contact_by = fact.day, fact.structure or p.last_contact_by


def _hold(p: Parcours, key: str, hold: Hold, fact: Fact) -> None:
    if p.gap is not None:
        p.closures[p.gap.key] = (hold.structure, fact.day)
        p.gap = None
    if p.closed is not None and p.closed[1] < fact.day:
        p.closed = None  # a structure takes the person up again after a closure: the thread resumes
    for k, h in list(p.holds.items()):
        if h.fallback_of_refusal and not h.in_background and _takes_on(hold, h.structure):
            p.holds[k] = replace(h, in_background=True)  # another structure took the person on
    p.holds[key] = hold
    if hold.structure:
        if not hold.in_background:
            p.last_holder = hold.structure
        p.structures.add(hold.structure)


def _takes_on(hold: Hold, other: str | None) -> bool:
    """Whether `hold` is a structure other than `other` taking the person on (accompaniment or dispositif)."""
    return bool(hold.structure) and hold.structure != other and hold.kind in (ACCOMPANIED, DISPOSITIF) \
        and not hold.in_background


def _release(p: Parcours, keys: Iterable[str], fact: Fact) -> None:
    released = [p.holds.pop(k) for k in list(keys) if k in p.holds]
    for hold in released:
        p.last_holder = hold.structure or p.last_holder
    if released and not p.holds and p.gap is None:
        p.gap = Gap(fact.day, _gap_reason(fact.kind), p.last_holder)
        p.gaps_opened.add(p.gap.key)


def apply(p: Parcours, fact: Fact) -> None:
    """Move the parcours by one fact; facts must come in `Fact.order`."""
    k, s, ref = fact.kind, fact.structure, fact.ref
    p.last_fact_day = max(p.last_fact_day or fact.day, fact.day)
    if s:
        p.structures.add(s)
    if k == "registered":
        p.registered = True
        p.registered_by = p.registered_by or s  # the first file opened: a later registration does not move it
    elif k == "contact":
        if fact.info.get("reached"):
            _touch(p, fact)
            _hold(p, f"acc:{s}", Hold(s, ACCOMPANIED, fact.day), fact)
    elif k == "barrier":
        _touch(p, fact)
        if fact.info.get("lifted"):
            p.barriers.pop(ref or "", None)
        else:
            p.barriers[ref or ""] = fact.info.get("kind", "")
    elif k == "referral_issued":
        due = date.fromisoformat(fact.info["due"]) if fact.info.get("due") else None
        p.pending[ref or ""] = (s or "", due)
        if fact.info.get("from"):
            p.issuers[ref or ""] = fact.info["from"]
        if fact.info.get("kind") == "orientation":
            p.referent = s
    elif k in ("referral_accepted", "referral_appointment"):
        p.pending.pop(ref or "", None)
        p.accepted.add(ref or "")
        _touch(p, fact)
        _hold(p, f"acc:{s}", Hold(s, ACCOMPANIED, fact.day, origin=ref, counsellor=fact.info.get("counsellor")),
              fact)
    elif k == "referral_refused":
        if (ref or "") in p.expired:
            return  # a refusal after the expiry changes nothing (the referral service ignores it too)
        p.pending.pop(ref or "", None)
        # The contract: on a refusal the issuer still holds the person and must find another way. While another
        # structure holds them (the Cité, when a childcare referral is refused), that structure stays the one to
        # act on their silence: the issuer's hold is in the background (partner story 50).
        issuer = p.issuers.get(ref or "")
        if issuer:
            own = p.holds.get(f"acc:{issuer}")
            fallback = own is None or own.fallback_of_refusal  # not when the issuer accompanies them already
            elsewhere = any(_takes_on(h, issuer) for h in p.holds.values())
            _hold(p, f"acc:{issuer}", Hold(issuer, ACCOMPANIED, fact.day, fallback_of_refusal=fallback,
                                           in_background=fallback and elsewhere), fact)
    elif k == "referral_withdrawn":
        p.pending.pop(ref or "", None)
    elif k == "referral_expired":
        p.pending.pop(ref or "", None)
        p.expired.add(ref or "")
        acc = p.holds.get(f"acc:{s}")
        if (ref or "") in p.accepted and fact.info.get("deadline") == "accept":
            pass  # accepted on its own date before this expiry was declared: the expiry did not happen
        elif acc is not None and acc.origin == ref:
            _release(p, [f"acc:{s}"], fact)
        elif not p.holds and p.gap is None:
            due = date.fromisoformat(fact.info["due"]) if fact.info.get("due") else fact.day
            p.gap = Gap(min(due, fact.day), "referral_expired", p.last_holder)
            p.gaps_opened.add(p.gap.key)
    elif k == "dispositif_entered":
        _touch(p, fact)
        _hold(p, f"disp:{ref}", Hold(s, DISPOSITIF, fact.day, counsellor=fact.info.get("counsellor")), fact)
    elif k == "dispositif_exited":
        _touch(p, fact)
        p.anchors.append(Anchor("exit", ref or "", fact.day, s, received_on(fact)))
        # Leaving a dispositif ends everything its operator did for the person; a next step counts once it
        # is observed as its own fact (job, training, entry, acceptance), not when it is only announced.
        _release(p, [f"disp:{ref}", f"acc:{s}"], fact)
    elif k == "job_started":
        _touch(p, fact)
        if fact.info.get("lasting"):
            p.lasting_jobs[ref or ""] = fact.day
        p.anchors.append(Anchor("job", ref or "", fact.day, s, received_on(fact)))
        _hold(p, f"job:{ref}", Hold(s, EMPLOYMENT, fact.day), fact)
    elif k == "job_ended":
        p.lasting_jobs.pop(ref or "", None)
        _release(p, [f"job:{ref}"], fact)
    elif k == "training_started":
        _touch(p, fact)
        _hold(p, f"trn:{ref}", Hold(s, TRAINING, fact.day), fact)
    elif k == "training_ended":
        _release(p, [f"trn:{ref}"], fact)
    elif k == "checkin_done":
        p.checkins_done[ref or ""] = bool(fact.info.get("reached")) or p.checkins_done.get(ref or "", False)
        if fact.info.get("reached"):
            _touch(p, fact)
            p.checkins_reached_on.setdefault(ref or "", fact.day)
            if fact.info.get("situation") == "moved_away":
                p.situation_moved_away = True
    elif k == "case_closed":
        p.closed = (fact.info.get("reason", "other"), fact.day)
    elif k == "caseload_transferred":
        _transfer(p, fact)


def _transfer(p: Parcours, fact: Fact) -> None:
    """The holds of the structure handing over (or of one counsellor in it) pass to the one taking over; an
    accompaniment is then the new structure's own (its key names its holder). Handed over whole, a structure
    also hands over its role of référent and its check-ins."""
    i = fact.info
    src, src_c, dst, dst_c = i["from"], i.get("from_counsellor"), fact.structure or "", i.get("to_counsellor")
    moved = [key for key, h in p.holds.items() if h.structure == src and (src_c is None or h.counsellor == src_c)]
    for key in moved:
        hold = p.holds.pop(key)
        new_key = f"acc:{dst}" if key.startswith("acc:") else key
        kept = p.holds.get(new_key)
        p.holds[new_key] = replace(hold, structure=dst, counsellor=dst_c,
                                   since=min(hold.since, kept.since) if kept else hold.since)
    if moved:
        p.last_holder = dst
        p.structures.add(dst)
    if src_c is None and src != dst:
        if p.referent == src:
            p.referent = dst
        if p.registered_by == src:
            p.registered_by = dst
        if p.last_holder == src:
            p.last_holder = dst
        if p.gap is not None and p.gap.last_holder == src:  # the same episode, now the new structure's to act on
            p.gap = replace(p.gap, last_holder=dst)
        p.anchors = [replace(a, structure=dst) if a.structure == src else a for a in p.anchors]


def fold(facts: Iterable[Fact], *, until: date | None = None, answer_wait_days: int | None = None,
         fact_wait_days: int | None = None, checkins: Mapping[str, date | None] | None = None) -> Parcours:
    """The parcours from a set of facts (duplicates by id count once), using only facts of days <= `until`.

    An answer to a referral the facts do not hold (or that arrived after the answer's wait, `answer_wait_days`)
    is left out: it holds nobody (domain/answers.py). So is an exit from a stay, the end of a job, or (given the
    `checkins` followup knows) a check-in's answer, whose fact is not held or came after `fact_wait_days`
    (domain/unknown_facts.py)."""
    unique = {f.id: f for f in facts if until is None or f.day <= until}
    skipped = unanswerable(unique.values(), answer_wait_days) | unknown_answers(unique.values(), fact_wait_days,
                                                                                 checkins)
    p = Parcours()
    for fact in sorted(unique.values(), key=lambda f: f.order):
        if fact.id not in skipped:
            apply(p, fact)
    return p
