"""Identity reviews, pure: which pair is reviewed under which id, what the two records share, what a decision
may do, and the events that tell every service (never an identity: field names only).

A review is opened when a new person looks like a known one (same birth date, close names) and nothing
proves they are one (`identity.is_near_duplicate`). The coordinator decides once: "same_person" folds the
newer id into the older one (the merge intake already publishes, rule `manual`), "different_people" closes
the review for good.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from contracts.identity import (
    IdentityReviewDecided,
    IdentityReviewDecidedData,
    IdentityReviewOpened,
    IdentityReviewOpenedData,
    MatchedField,
    ReviewDecision,
)
from contracts.people import PersonIdentitiesMerged, PersonIdentitiesMergedData
from contracts.vocabulary import MergeRule
from services.intake.domain.identity import IdentityFacts, normalise_email, normalise_name, normalise_phone
from services.intake.domain.publication import SERVICE_SOURCE

PENDING = "pending"
STATUSES = (PENDING, ReviewDecision.SAME_PERSON.value, ReviewDecision.DIFFERENT_PEOPLE.value)


def review_id(person_a: str, person_b: str) -> str:
    """The id of the review of a pair, whichever order the pair comes in: a replay, a retry or the same
    registration sent twice can never open two reviews of one pair."""
    first, second = sorted((person_a, person_b))
    return "rev-" + hashlib.sha256(f"{first}\x1f{second}".encode()).hexdigest()[:32]


def matched_fields(a: IdentityFacts, b: IdentityFacts) -> list[MatchedField]:
    """The identity fields both records hold and agree on (as normalised for matching); names only are
    returned, never a value. Close but different last names do not count as matched."""
    same = {
        MatchedField.LAST_NAME: _both(a.last_name, b.last_name, normalise_name),
        MatchedField.FIRST_NAMES: _both(a.first_names, b.first_names, normalise_name),
        MatchedField.BIRTH_DATE: a.birth_date is not None and a.birth_date == b.birth_date,
        MatchedField.EMAIL: _both(a.email, b.email, normalise_email),
        MatchedField.PHONE: _both(a.phone, b.phone, normalise_phone),
    }
    return [field for field in MatchedField if same[field]]


def _both(x: str | None, y: str | None, normalise) -> bool:  # noqa: ANN001 - one of the normalisers above
    return bool(x and y and normalise(x) and normalise(x) == normalise(y))


def missing_fields(a: IdentityFacts, b: IdentityFacts) -> list[str]:
    """What would have settled it and is missing on either record: a NIR on both would have said yes or no."""
    return ["nir"] if not (a.nir and b.nir) else []


@dataclass(frozen=True)
class Opening:
    """A review to open: the newer id (the event's subject), the id it may be the same person as, and what
    the two records share and lack."""

    review_id: str
    person_id: str
    other_person_id: str
    matched: tuple[MatchedField, ...]
    missing: tuple[str, ...]


def opening(newer: str, older: str, newer_facts: IdentityFacts, older_facts: IdentityFacts) -> Opening:
    matched = matched_fields(newer_facts, older_facts) or [MatchedField.BIRTH_DATE]  # flagged on it at least
    return Opening(review_id(newer, older), newer, older, tuple(matched), tuple(missing_fields(newer_facts,
                                                                                            older_facts)))


def opened_event(review: Opening, cause_id: str, correlation_id: str | None, time: datetime,
                 recorded: datetime) -> IdentityReviewOpened:
    """identity.review_opened, its id derived from the review so a replay derives the same one."""
    return IdentityReviewOpened(
        id=f"{review.review_id}:opened", source=SERVICE_SOURCE, subject=review.person_id, time=time,
        correlationid=correlation_id or cause_id, causationid=cause_id, recordedtime=recorded,
        data=IdentityReviewOpenedData(review_id=review.review_id, person_id=review.person_id,
                                      other_person_id=review.other_person_id, matched=list(review.matched),
                                      missing=list(review.missing)))


@dataclass(frozen=True)
class Decided:
    """What a decision publishes: the decision, then for "same_person" the merge (the older id is kept)."""

    events: tuple[IdentityReviewDecided | PersonIdentitiesMerged, ...]
    kept: str | None = None
    merged: str | None = None


class AlreadyDecided(Exception):
    """A review is decided once; the message says how it was."""


class NeverOnePerson(Exception):
    """Two records that carry different NIRs are two people, whatever a reviewer thinks."""


def decide(status: str, review: Opening, decision: ReviewDecision, decided_by: str, note: str | None,
           canonical: tuple[str, str], nirs_differ: bool, when: datetime) -> Decided:
    """The events of a coordinator's decision on a pending review. `canonical` is where each of the pair's
    ids points today (a merge since the review opened may already have made them one: then nothing is left
    to merge); `nirs_differ` says the two records now carry different NIRs."""
    if status != PENDING:
        raise AlreadyDecided(f"review {review.review_id} was already decided: {status}")
    if decision is ReviewDecision.SAME_PERSON and nirs_differ:
        raise NeverOnePerson(f"review {review.review_id}: the two records carry different NIRs, they are two "
                             "people (decide different_people)")
    decided = IdentityReviewDecided(
        id=f"{review.review_id}:decided", source=SERVICE_SOURCE, subject=review.person_id, time=when,
        correlationid=review.review_id, recordedtime=when,
        data=IdentityReviewDecidedData(review_id=review.review_id, person_id=review.person_id,
                                       other_person_id=review.other_person_id, decision=decision,
                                       decided_by=decided_by, note=note))
    newer, older = canonical
    if decision is not ReviewDecision.SAME_PERSON or newer == older:
        return Decided((decided,))
    merge = PersonIdentitiesMerged(
        id=f"{review.review_id}:merged:{newer}", source=SERVICE_SOURCE, subject=older, time=when,
        correlationid=review.review_id, causationid=decided.id, recordedtime=when,
        data=PersonIdentitiesMergedData(kept_person_id=older, merged_person_id=newer, rule=MergeRule.MANUAL))
    return Decided((decided, merge), kept=older, merged=newer)

