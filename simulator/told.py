"""The story as it is scripted: what each step decided for the person, written down when it is decided.

The script knows what it makes happen: "Aldev accepts on day 20 and holds the person", "the Cité lets them
go on day 140 with no next step and nobody takes them up", "the Mission locale finds them again on day 195".
Each step records that here, in the script's own terms (who holds the person from which day; a loss the story
means, with the day it begins and who had to act; the answer a referral gets; a closure), before any event
is sent. `recorded_truth` (recorded.py) turns these records into the figures the coordinator must see, with
the territory's thresholds as the seeds state them; it never replays the events through a model of who holds
whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chapter:
    """From `day` on (until the next chapter), `holders` hold the person; none: nobody does, since `gap`
    (why nobody holds them: exit_without_next_step, job_ended_unheld, referral_expired, no_contact) or, with
    no gap, because nobody has taken them on yet (waiting for an orientation or an answer)."""

    day: int
    order: int
    holders: tuple[str, ...]
    gap: str | None = None
    since: int | None = None  # the gap's first day, when it is before the chapter's (an expiry: its due date)
    if_unheld: bool = False  # a gap only if nobody holds the person then (an expiry changes no one's hold)
    adds: bool = False  # `holders` hold the person beside those who already do


@dataclass
class Loss:
    """Nobody picks the person up from `since` on: the story means them lost. `grace` is the days added to the
    territory's thresholds (a silence is noticed only after `no_contact_days`); `to_act` is the structure the
    story expects to act: the one that let them go, or the one that never answered. `found` is the day that
    structure finds them again (None: nobody does)."""

    reason: str
    since: int | None  # None: from the last day anyone saw the person (a silence; see Told.last_seen)
    to_act: str
    grace: int = 0
    found: int | None = None
    found_by: str | None = None


@dataclass
class ToldReferral:
    """A referral the person gets and how the story answers it: accepted (on time), accepted_late (after the
    day following its due date), refused, never; `answered` is the day of the answer, `answer_event` its
    event id (to know when it is sent)."""

    referral_id: str
    kind: str  # orientation | prescription
    to_structure: str
    issued: int
    due: int
    answer: str
    answered: int | None = None
    answer_event: str | None = None


@dataclass(frozen=True)
class ToldReview:
    """A second registration with a close name and no NIR (duplicates.py): intake opens an identity review on
    `registered`, the coordinator decides it on `decided` as the story wrote it: `same_person` (the same person
    registered again by `by` as `partner_ref`) or `different_people` (another person, `other`, with a close name
    and the same birth date). `registration` and `other_registration` are the two registrations' event ids."""

    partner_ref: str
    by: str
    registered: int
    decided: int
    decision: str  # same_person | different_people
    registration: str
    other_registration: str
    other: str | None = None  # the other person's key, when they are different people


@dataclass
class Told:
    chapters: list[Chapter] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    referrals: list[ToldReferral] = field(default_factory=list)
    closed: tuple[str, int] | None = None  # (reason, day) of a closure the story makes
    reviews: list[ToldReview] = field(default_factory=list)  # identity reviews the story's registrations open
    seen: list[int] = field(default_factory=list)  # days a partner saw the person (reached, met, placed...)
    # The référent's accompaniment: from which day it stands beside whatever else holds the person (it is not
    # ended by a job or a dispositif; only a silence loses the person then).
    referent_since: tuple[str, int] | None = None

    def referent_accompanies(self, structure: str, day: int) -> None:
        if self.referent_since is None or day < self.referent_since[1]:
            self.referent_since = (structure, day)
    unreached_checkins: list[int] = field(default_factory=list)  # due days of check-ins that could not reach them

    def last_seen(self, before: int) -> int | None:
        return max((day for day in self.seen if day < before), default=None)

    def hold(self, day: int, *holders: str) -> None:
        """From `day`, exactly `holders` hold the person."""
        self.chapters.append(Chapter(day, len(self.chapters), tuple(sorted(set(holders)))))

    def also_held(self, day: int, holder: str) -> None:
        """From `day`, `holder` holds the person too, beside those who already do."""
        self.chapters.append(Chapter(day, len(self.chapters), (holder,), adds=True))

    def let_go(self, day: int, gap: str | None, since: int | None = None) -> None:
        """From `day`, nobody holds the person (`gap`: why, since `since` if earlier; None: nobody has taken
        them on yet)."""
        self.chapters.append(Chapter(day, len(self.chapters), (), gap, since))

    def expires(self, day: int, since: int) -> None:
        """A referral expires on `day` (due on `since`): nobody takes the person on through it; if nobody
        holds them then, they are without anyone since `since`."""
        self.chapters.append(Chapter(day, len(self.chapters), (), "referral_expired", since, if_unheld=True))

    def chapter_on(self, day: int) -> Chapter | None:
        """The chapter in force at the end of `day` (the latest one written for that day wins; an expiry while
        someone holds the person changes nothing)."""
        current = None
        for chapter in sorted(self.chapters, key=lambda c: (c.day, c.order)):
            if chapter.day > day:
                break
            if chapter.if_unheld and current is not None and current.holders:
                continue
            if chapter.adds and current is not None:
                chapter = Chapter(chapter.day, chapter.order, tuple(sorted({*current.holders, *chapter.holders})))
            current = chapter
        return current
