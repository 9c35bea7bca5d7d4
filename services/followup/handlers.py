"""The thin shell: load a person's file, call the pure decision, store it, count it, emit what it says.

Every handler is `async (event, uow, deps)`; the table at the end says which event type goes to which.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from contracts import topics
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.erasure import PersonErased
from contracts.followup import CheckinDue, PersonLost
from contracts.identity import IdentityReviewDecided, IdentityReviewOpened
from contracts.people import PersonIdentitiesMerged
from services.followup import store
from services.followup.domain import (FACT_TYPES, Decision, LedgerCheck, PendingReview, PersonFile, State, decide,
                                      fact_of, file_numbers, merge, worklist_lines)
from services.followup.domain.answers import received
from services.followup.domain.erasure import forget_person
from services.followup.domain.facts import local_day
from services.followup.domain.unknown_facts import Dropped, keep, may_wait
from services.followup.metrics import FollowupMetrics
from services.followup.store import KNOWN, MERGED, PersonRow, ReviewRow, Writes
from services.runtime.deadletter import DeadLetter
from services.runtime.turns import Turns
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.followup.app import FollowupDeps

log = structlog.get_logger("ariane.followup")


# The shell around domain/unknown_facts.py: keep the record an answer came in while it waits for its fact,
# and report the answers dropped after their wait to their senders on the dead-letter topic.

async def _record_of(uow: UnitOfWork, event: Envelope) -> dict[str, Any]:
    """Where the event was consumed (its inbox mark) and its bytes, so that its dead letter, if it comes to that,
    is the letter of that record (one letter per record) and tells its sender which event it was."""
    inbox = uow.tables.inbox
    where = (await uow.session.exec(select(inbox.c.topic, inbox.c.partition, inbox.c.offset)
                                    .where(inbox.c.event_id == event.id))).first()
    topic, partition, offset = where if where is not None else (f"unrecorded:{event.id}", -1, -1)
    return {"topic": topic, "partition": partition, "offset": offset, "sender": event.source,
            "original": event.to_json_bytes().decode("utf-8")}


async def _report_dropped(uow: UnitOfWork, person_id: str, dropped: Dropped) -> None:
    """The sender learns it from the dead-letter topic, keyed by the person (pseudonymous), like every record of
    the topics the answer came from; an erased person's record has no original any more: the reason alone."""
    r = dropped.record
    letter = DeadLetter("followup", dropped.reason, str(r.get("topic") or f"unrecorded:{dropped.fact_id}"),
                        int(r.get("partition", -1)), int(r.get("offset", -1)), person_id,
                        str(r.get("original") or "").encode("utf-8"))
    await uow.dead_letter(letter)
    log.warning("answer_dead_lettered", reason=dropped.code, answer=dropped.fact_id)


async def on_fact(event: Envelope, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """A partner fact or a referral decision: add it to the person's file and decide again."""
    fact = fact_of(event, deps.rules.zone)
    if fact is None:
        return
    row = await _row(uow, await _resolve(uow, event.subject))
    today = await _today(uow)
    file = store.to_file(row, deps.rules.zone)
    fact = received(fact, today)
    if may_wait(fact, file.facts, file.emitted.checkins):  # it may answer a fact not received: keep its record
        fact = keep(fact, await _record_of(uow, event))
    await _apply(uow, deps, row, file.with_fact(fact), event, today)


async def on_identities_merged(event: PersonIdentitiesMerged, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """Two ids are one person: the merged id's facts move to the kept id, which is decided again."""
    kept_id = await _resolve(uow, event.data.kept_person_id)
    merged_id = event.data.merged_person_id
    if kept_id == merged_id:
        return
    kept, gone = await _row(uow, kept_id), await _row(uow, merged_id)
    if gone.merged_into is not None:
        return
    for review in await store.reviews_between(uow.session, kept_id, merged_id):
        review.decision = store.MERGED_REVIEW  # the merge settles it, whether or not the decision came first
        uow.session.add(review)
        _reviews_changed(uow)
    file = merge(store.to_file(kept, deps.rules.zone), store.to_file(gone, deps.rules.zone))
    writes = _writes(uow)
    writes.ledger_add(gone.state, -1)
    writes.ledger_add(MERGED, 1)
    _transition(deps.metrics, gone.state, "merged")
    gone.state, gone.merged_into, gone.wake_on, gone.facts = None, kept_id, None, "[]"
    uow.session.add(gone)
    writes.replace(merged_id, [], [], {}, first=_first_write(uow, merged_id))
    await _apply(uow, deps, kept, file, event, await _today(uow))


async def on_review_opened(event: IdentityReviewOpened, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """Two ids may be one person: the newer one's alerts wait, and the coordinator gets a line to decide."""
    d = event.data
    if await uow.session.get(ReviewRow, d.review_id) is not None:
        return
    person_id = await _resolve(uow, d.person_id)
    day = await _today(uow)
    uow.session.add(ReviewRow(review_id=d.review_id, person_id=person_id, other_person_id=d.other_person_id,
                              matched=json.dumps([str(m) for m in d.matched]), missing=json.dumps(d.missing),
                              opened_on=day or local_day(event.time, deps.rules.zone)))
    _reviews_changed(uow)
    await uow.session.flush()
    row = await _row(uow, person_id)
    await _apply(uow, deps, row, store.to_file(row, deps.rules.zone), event, day)


async def on_review_decided(event: IdentityReviewDecided, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """The coordinator decided: the review leaves the worklist. "Different people" lets the alerts through;
    "same person" keeps them waiting for the merge intake publishes next, which moves the facts to the kept id."""
    review = await uow.session.get(ReviewRow, event.data.review_id, with_for_update=True)
    if review is None or review.decision is not None:
        return
    review.decision = str(event.data.decision)
    uow.session.add(review)
    _reviews_changed(uow)
    await uow.session.flush()
    row = await _row(uow, await _resolve(uow, review.person_id))
    await _apply(uow, deps, row, store.to_file(row, deps.rules.zone), event, await _today(uow))


async def on_person_erased(event: PersonErased, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """Intake erased a person: their facts lose the structures' file numbers (their worklist lines and
    caseload rows with them) while their state and every count stay. Ids folded into them were emptied by the
    merge; a person followup never heard of is not created."""
    for person_id in dict.fromkeys([await _resolve(uow, event.data.person_id), *event.data.merged_person_ids]):
        row = await uow.session.get(PersonRow, person_id, with_for_update=True)
        if row is None or row.merged_into is not None:
            continue
        file = forget_person(store.to_file(row, deps.rules.zone))
        await _apply(uow, deps, row, file, event, await _today(uow))


async def on_day_started(event: DayStarted, uow: UnitOfWork, deps: FollowupDeps) -> None:
    """A new day: decide again for everyone a threshold of whom has come, then check the ledger."""
    await store.set_today(uow.session, event.data.day)
    uow.memo.pop(_TODAY, None)  # the tick may have moved it: read it again (from the session, no query)
    day = await _today(uow)
    turns = Turns()  # everyone due is decided in this one handler: others get the event loop in between
    for row in await store.persons_to_wake(uow.session, day):
        await _apply(uow, deps, row, store.to_file(row, deps.rules.zone), event, day)
        await turns.maybe()
    await _write(uow)  # what the tick changed, before the counts below read it
    _report_ledger(deps.metrics, await _ledger_check(uow, day), await store.checkins_overdue(uow.session))
    deps.metrics.reviews_pending.set(await store.reviews_pending(uow.session))


# The ledger's purpose is to catch drift: a count moved without its person, or a person moved without its count
# (a bug in a handler, a row edited by hand). Its counters are checked against each other on every tick (they
# must sum to the persons known minus the ids merged, none below zero): a few rows, whatever the territory. The
# recount, which reads every person, runs on one tick in RECOUNT_EVERY_DAYS (the days whose ordinal is a
# multiple of it, the same days for every instance) and whenever GET /v1/ledger is asked. The trade-off: a
# drift that keeps the sum right (one person counted in the wrong state) is found within that many days, or at
# the next look at the ledger, instead of the same day; in exchange a day tick reads what is due that day and
# the ledger's rows, not the whole person table.
RECOUNT_EVERY_DAYS = 7


async def _ledger_check(uow: UnitOfWork, day: date | None) -> LedgerCheck:
    full = day is None or day.toordinal() % RECOUNT_EVERY_DAYS == 0
    return await store.ledger_check(uow.session, full=full)


def _report_ledger(metrics: FollowupMetrics, check: LedgerCheck, checkins_overdue: int) -> None:
    """A violation is logged and counted, never corrected; the gauges follow the ledger."""
    if not check.balanced:
        log.error("ledger_violation", counts=check.counts, recount=check.recount, known=check.known,
                  merged=check.merged)
        metrics.ledger_violations.inc()
    for state in State:
        metrics.persons.labels(state.value).set(check.counts.get(state.value, 0))
    metrics.checkins_overdue.set(checkins_overdue)


_TODAY = "followup.today"


async def _today(uow: UnitOfWork) -> date | None:
    """The clock's day, read once per transaction (a consumed batch) instead of once per event: only a tick
    moves it, and on_day_started reads it again after moving it."""
    if _TODAY not in uow.memo:
        uow.memo[_TODAY] = await store.today(uow.session)
    return uow.memo[_TODAY]


_LOCKED, _ABSENT, _NO_LINES, _UNDER_REVIEW, _BATCH_READ = (
    "followup.locked", "followup.absent", "followup.no_lines", "followup.under_review", "followup.batch_read")


def _memo_set(uow: UnitOfWork, name: str) -> set[str]:
    return uow.memo.setdefault(name, set())


async def _resolve(uow: UnitOfWork, person_id: str) -> str:
    """The id a person is known by now, following merges."""
    await _read_batch_people(uow)
    seen = set()
    while person_id not in seen:
        seen.add(person_id)
        absent = _memo_set(uow, _ABSENT)
        row = None if person_id in absent else await uow.session.get(PersonRow, person_id)
        if row is None:
            absent.add(person_id)  # _row need not look again in this transaction
            return person_id
        if row.merged_into is None:
            return person_id
        person_id = row.merged_into
    return person_id


async def _read_batch_people(uow: UnitOfWork) -> None:
    """The rows of everyone the batch's events are about, in one query at its first event: the session holds
    them from then on, and who has no row yet is known (_ABSENT), so each event's _resolve and _row cost no
    query."""
    if _BATCH_READ in uow.memo:
        return
    # The session keeps unmodified rows only while something else refers to them: the memo does, so that
    # session.get finds them for the whole transaction.
    held = uow.memo[_BATCH_READ] = {}
    wanted = {e.subject for e in uow.batch if e.subject}
    if not wanted:
        return
    # On PostgreSQL they are locked in the same query (what _row would otherwise do person by person).
    lock = uow.session.get_bind().dialect.name != "sqlite"
    held.update((row.person_id, row) for row in await store.people(uow.session, wanted, lock=lock))
    _memo_set(uow, _ABSENT).update(wanted - held.keys())
    if lock:
        _memo_set(uow, _LOCKED).update(held.keys())


async def _row(uow: UnitOfWork, person_id: str) -> PersonRow:
    """The person's row, locked until commit: with several instances on PostgreSQL, a tick and a fact about
    the same person may be decided at once, and the second must see the first's result. A person first heard
    of is counted in the ledger, awaiting orientation.

    Read once per transaction: a row already locked in this transaction is taken from the session. On SQLite
    the row read with the batch's (or known absent then) is used as it is: its transactions begin IMMEDIATE,
    one writer at a time, so what the session holds is what the store holds."""
    await _read_batch_people(uow)
    locked = _memo_set(uow, _LOCKED)
    absent = _memo_set(uow, _ABSENT)
    if person_id in locked:
        row = await uow.session.get(PersonRow, person_id)
    elif uow.session.get_bind().dialect.name == "sqlite":
        row = None if person_id in absent else await uow.session.get(PersonRow, person_id)
    else:  # another instance may have created the person since the batch was read: look, and lock
        row = await uow.session.get(PersonRow, person_id, with_for_update=True)
    locked.add(person_id)
    absent.discard(person_id)
    if row is None:
        row = PersonRow(person_id=person_id, state=State.AWAITING_ORIENTATION.value)
        _writes(uow).ledger_add(KNOWN, 1)
        _writes(uow).ledger_add(row.state, 1)
        uow.session.add(row)
        _memo_set(uow, _NO_LINES).add(person_id)  # no worklist line nor hold to replace yet
    uow.memo[_BATCH_READ][person_id] = row  # held for the transaction, as the batch's rows are
    return row


async def _pending_review(uow: UnitOfWork, person_id: str) -> PendingReview | None:
    """The review holding back this person's alerts, if any. Who has one is read once per transaction (few
    people do); the handlers that open, decide or close reviews forget it (_reviews_changed)."""
    if _UNDER_REVIEW not in uow.memo:
        uow.memo[_UNDER_REVIEW] = await store.people_under_review(uow.session)
    if person_id not in uow.memo[_UNDER_REVIEW]:
        return None
    return await store.pending_review(uow.session, person_id)


def _reviews_changed(uow: UnitOfWork) -> None:
    uow.memo.pop(_UNDER_REVIEW, None)


async def _apply(uow: UnitOfWork, deps: FollowupDeps, row: PersonRow, file: PersonFile, cause: Envelope,
                 day: date | None) -> None:
    old = row.state
    review = await _pending_review(uow, row.person_id)
    decision: Decision = decide(file, day, cause, deps.rules, under_review=review is not None)
    store.write_file(row, decision.file, decision.status)
    uow.session.add(row)
    writes = _writes(uow)
    if old != row.state:
        writes.ledger_add(old, -1)
        writes.ledger_add(row.state, 1)
        _transition(deps.metrics, old, row.state)
    numbers = file_numbers(decision.file.facts)
    writes.replace(row.person_id, worklist_lines(row.person_id, decision.status, day, deps.rules, numbers, review),
                   decision.status.caseload, numbers, first=_first_write(uow, row.person_id))
    for out in decision.events:
        await uow.emit(out, topics.FOLLOWUP)
    for dropped in decision.dropped:
        await _report_dropped(uow, row.person_id, dropped)
    _count(deps.metrics, decision)
    if decision.events:
        log.info("decided", state=row.state, emitted=[e.short_type for e in decision.events])


# Writes of a consumed batch (store/writes.py): where the transaction has no SAVEPOINT (the processor applies a
# batch in one go), the worklist lines, holds and ledger moves of all its events are gathered and sent in one
# round when its last event to be handled is done, with the persons' rows (one UPDATE for all): a failure
# there fails that event's handler, the processor applies the batch again with a SAVEPOINT per record, and
# then each event writes its own at its end, inside its SAVEPOINT, so that a poison record still goes alone.
_WRITES = "followup.writes"


def _writes(uow: UnitOfWork) -> Writes:
    return uow.memo.setdefault(_WRITES, Writes())


def _first_write(uow: UnitOfWork, person_id: str) -> bool:
    """True for a person created in this transaction whose lines and holds were never written: nothing to delete."""
    no_lines = _memo_set(uow, _NO_LINES)
    first = person_id in no_lines
    no_lines.discard(person_id)
    return first


async def _write(uow: UnitOfWork) -> None:
    writes = uow.memo.get(_WRITES)
    if writes:
        await store.write(uow.session, writes)


def _in_batch(handler):  # noqa: ANN001, ANN202 - wraps any handler of the table below
    async def handle(event: Envelope, uow: UnitOfWork, deps: FollowupDeps) -> None:
        await handler(event, uow, deps)
        if uow.last_to_handle(event, HANDLERS):
            await _write(uow)
            await uow.session.flush()  # the persons' rows too, here: a failure belongs to a handler, not the commit

    return handle


def _transition(metrics: FollowupMetrics, old: str | None, new: str | None) -> None:
    if old != new:
        metrics.transitions.labels(old or "none", new or "none").inc()


def _count(metrics: FollowupMetrics, decision: Decision) -> None:
    for e in decision.events:
        if isinstance(e, PersonLost):
            metrics.lost.labels(str(e.data.reason), e.data.structure_to_act).inc()
        elif isinstance(e, CheckinDue):
            metrics.checkins_due.inc()
    for reason, by, days in decision.reengaged_after_days:
        metrics.reengaged.labels(reason, by).inc()
        metrics.lost_days.observe(days)
    for dropped in decision.dropped:  # reason: one of unknown_facts.UNKNOWN_CODES, a closed set
        metrics.answers_dropped.labels(dropped.code).inc()


HANDLERS = {event_type: _in_batch(handler) for event_type, handler in {
    DayStarted: on_day_started,
    PersonIdentitiesMerged: on_identities_merged,
    IdentityReviewOpened: on_review_opened,
    IdentityReviewDecided: on_review_decided,
    PersonErased: on_person_erased,
    **dict.fromkeys(FACT_TYPES, on_fact),  # every event that tells a fact of a parcours (domain/facts.py)
}.items()}
