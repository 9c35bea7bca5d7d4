"""The thin shell around the rules: load the person, call the rule, store, emit to ariane.referral.v1.

A consumed batch is applied in one round of reads and writes (store/batch.py): the people its events are about
are read in one query at its first event, each event decides on the state the previous ones left, and the
states are written together once the batch's last event this service handles is done (`_in_batch`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import structlog

from contracts import topics
from contracts.barriers import BarrierIdentified
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import CaseClosed
from contracts.pathway import DispositifEntered, DispositifExited, JobEnded, JobStarted
from contracts.people import PersonIdentitiesMerged, PersonProfileUpdated, PersonRegistered
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralRefused,
)
from services.referral import store
from services.referral.domain import merge, waiting_answers
from services.referral.domain.lifecycle import Decision, DomainRejection, PersonState, decide, on_day
from services.referral.domain.waiting_answers import Outcome, Waiting
from services.referral.domain.webhook_targets import receiving_structure
from services.referral.store import batch, parked
from services.runtime.deadletter import DeadLetter
from services.runtime.errors import PermanentError
from services.runtime.routing import HandlerTable
from services.runtime.turns import Turns
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.referral.app import ReferralDeps

log = structlog.get_logger("ariane.referral")


async def on_person_fact(event: Envelope, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """A fact about one person that may change their referrals or their orientation. A fact about an id merged
    into another one applies to the kept id (it may come after the merge: topics are not ordered together)."""
    state = await _current(uow, event.subject)
    try:
        decision = decide(state, event, deps.territory)
    except DomainRejection as exc:
        raise PermanentError(str(exc)) from exc
    await _commit(state, decision, uow, deps)
    await _move_waiting_answers(event, state, decision.state, uow, deps)


async def on_identities_merged(event: PersonIdentitiesMerged, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """Two ids are one person: the merged id's referrals, fired rules and waiting answers go to the kept id
    (`merge.merge`); the merged id keeps only where it went. The same merge twice changes nothing."""
    merged_id = event.data.merged_person_id
    gone = await _state(uow, merged_id)  # locked first, as a fact about it locks it
    if gone.merged_into is not None:
        log.info("identities_already_merged", merged_into_kept=gone.merged_into == event.data.kept_person_id)
        return
    kept = await _current(uow, event.data.kept_person_id)
    if kept.person_id == merged_id:  # the kept id was itself merged into this one: nothing left to fold
        log.warning("identities_merge_cycle_ignored")
        return
    before = merge.gathered(kept, gone)
    decision = merge.merge(kept, gone, event, deps.territory)
    (await _people(uow)).put(merge.tombstone(merged_id, kept.person_id))
    await parked.move(uow, from_person=merged_id, to_person=kept.person_id)
    # Saved even when nothing is folded together: the kept id may have known nothing yet.
    await _commit(before, decision, uow, deps, save=True)
    await _move_waiting_answers(event, before, decision.state, uow, deps)
    log.info("identities_merged", referrals=len(decision.state.referrals), emitted=len(decision.events))


async def on_day_started(tick: DayStarted, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """Reminders and expiries of the day, for the people with a referral the day may act on; then the answers
    that waited too long for their referral. The people due are read in one query."""
    await _write(uow, deps)  # what the batch's earlier events decided is in the referral rows the query reads
    people = await store.people_due(uow.session, tick.data.day)
    held = await _people(uow)
    await batch.read(uow.session, held, people)
    turns = Turns()  # everyone due is decided in this one handler: others get the event loop in between
    for person_id in people:
        state = held.get(person_id)
        decision = on_day(state, tick, deps.territory)
        if decision.state == state:
            # Due and nothing to do: rows written before closed cases stopped being due (see `next_checks`).
            # Written again once, so that the person is not read on every tick that follows.
            held.put(state)
        await _commit(state, decision, uow, deps)
        await turns.maybe()
    expired = await _expire_waiting_answers(tick.data.day, uow, deps)
    log.info("day_started", day=tick.data.day.isoformat(), people=len(people), answers_expired=expired)


async def _move_waiting_answers(event: Envelope, before: PersonState, after: PersonState, uow: UnitOfWork,
                                deps: ReferralDeps) -> None:
    """Keep the waiting room's rows in step with the state: a parked answer gets its row; an answer its referral
    took out of it loses its row, and is reported if it was not the referral's structure's to give."""
    for moved in waiting_answers.moves(before, after):
        if moved.outcome is Outcome.PARKED:
            await parked.park(uow, person_id=after.person_id, referral_id=moved.referral_id,
                              event_id=moved.answer.event_id, answer_on=moved.answer.on,
                              original=event.to_json_bytes())
            log.info("answer_waits_for_its_referral", referral_id=moved.referral_id,
                     answer=moved.answer.event_type, structure=moved.answer.structure_id)
        else:
            row = await parked.unpark(uow, moved.answer.event_id)
            if moved.outcome is Outcome.MISDIRECTED:
                referral = after.referrals.get(after.aliases.get(moved.referral_id, moved.referral_id))
                why = waiting_answers.reason(moved, wait_days=deps.settings.answer_wait_days,
                                             sent_to=referral.to_structure if referral else None)
                await _report(moved, row, after.person_id, why, uow)
        _count(moved, deps)


async def _expire_waiting_answers(day: date, uow: UnitOfWork, deps: ReferralDeps) -> int:
    """Answers whose referral never came within their wait: out of the person's state, and reported."""
    wait = deps.settings.answer_wait_days
    await parked.start_waits(uow, lambda answer_on: waiting_answers.waits_until(answer_on, day, wait))
    expired = 0
    due = await parked.due(uow, day)
    held = await _people(uow)
    await batch.read(uow.session, held, due)
    for person_id, rows in due.items():
        state = held.get(person_id)
        after, gone = waiting_answers.expire(state, {r.event_id: r.waits_until for r in rows if r.waits_until}, day)
        if after != state:
            held.put(after)
        by_event = {r.event_id: r for r in rows}
        for waiting in gone:
            row = by_event[waiting.answer.event_id]
            why = waiting_answers.reason(waiting, wait_days=wait, last_day=row.waits_until)
            await _report(waiting, row, person_id, why, uow)
            _count(waiting, deps)
            expired += 1
        for row in rows:  # every due row goes: those whose answer had already left the state too
            await parked.unpark(uow, row.event_id)
    return expired


async def _report(waiting: Waiting, row: parked.ParkedAnswerRow | None, person_id: str, why: str,
                  uow: UnitOfWork) -> None:
    """The sender learns it from the dead-letter topic: the letter of the record the answer came in, with the
    reason; it is keyed by the person (pseudonymous), like every record of the topics it came from."""
    if row is None:  # no row (it waited before rows were kept): the reason alone, on a letter of its own
        letter = DeadLetter("referral", why, f"unrecorded:{waiting.answer.event_id}", -1, -1, person_id, b"")
    else:
        letter = DeadLetter("referral", why, row.topic, row.partition, row.offset, person_id, row.original)
    await uow.dead_letter(letter)
    log.warning("answer_dead_lettered", reason=why.split(":", 1)[0], referral_id=waiting.referral_id,
                answer=waiting.answer.event_type, structure=waiting.answer.structure_id)


def _count(waiting: Waiting, deps: ReferralDeps) -> None:
    if deps.metrics is not None:
        deps.metrics.waiting_answers.labels(waiting.answer.event_type, waiting.outcome.value).inc()


async def _commit(before: PersonState, decision: Decision, uow: UnitOfWork, deps: ReferralDeps, *,
                  save: bool = False) -> None:
    if decision.state == before and not save:
        return
    (await _people(uow)).put(decision.state)
    for event in decision.events:
        await uow.emit(event, topics.REFERRAL)
        _queue_webhook(event, uow, deps)
    if deps.metrics is not None:
        deps.metrics.observe(before, decision.state, decision.events)
    if decision.events:
        log.info("decided", emitted=[f"{e.type.rsplit('.', 1)[-1]}:{e.data.referral_id}" for e in decision.events])


def _queue_webhook(event: Envelope, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """The receiving structure's webhook gets the event too: queued in this transaction, with the bytes the
    relay publishes on Kafka, so the notice exists exactly when the decision does."""
    structure = receiving_structure(event)
    url = deps.webhook_urls.get(structure) if structure else None
    if structure is None or url is None:
        return
    store.add_webhook_delivery(uow.session, event_id=event.id, event_type=event.type, structure_id=structure,
                               url=url, body=event.to_json_bytes(), now=deps.now())


# The people of a transaction (store/batch.py). Where it has no SAVEPOINT (the processor applies a consumed batch
# in one go), the states its events decide are gathered and written in one round when its last event to be
# handled is done: a failure there fails that event's handler, the processor applies the batch again with a
# SAVEPOINT per record, and then each event writes its own at its end, inside its SAVEPOINT, so that a poison
# record still goes alone. The memo is emptied when a SAVEPOINT rolls back (UnitOfWork.forget): the states are
# read again then.
_PEOPLE = "referral.people"


async def _people(uow: UnitOfWork) -> batch.People:
    """The transaction's people; at the first call, everyone the batch's events are about is read in one query
    (and the ids they were merged into, in one more per step of merges)."""
    held = uow.memo.get(_PEOPLE)
    if held is None:
        held = uow.memo[_PEOPLE] = batch.People()
        wanted = {e.subject for e in uow.batch if type(e) in HANDLERS and not isinstance(e, DayStarted) and e.subject}
        wanted |= {e.data.merged_person_id for e in uow.batch if isinstance(e, PersonIdentitiesMerged)}
        while wanted:
            await batch.read(uow.session, held, wanted)
            wanted = {s.merged_into for s in map(held.states.get, wanted)
                      if s is not None and s.merged_into is not None and s.merged_into not in held.states}
    return held


async def _state(uow: UnitOfWork, person_id: str) -> PersonState:
    """The person's state as this transaction left it (read, and on PostgreSQL locked, once)."""
    held = await _people(uow)
    if person_id not in held.states:
        await batch.read(uow.session, held, [person_id])
    return held.get(person_id)


async def _current(uow: UnitOfWork, person_id: str) -> PersonState:
    """The state of the person under the id they are known by now: an id merged into another one leads there.
    The merged id's row is read (and locked) first: a merge in flight is waited for, then followed."""
    state = await _state(uow, person_id)
    seen = {person_id}
    while state.merged_into is not None and state.merged_into not in seen:
        seen.add(state.merged_into)
        state = await _state(uow, state.merged_into)
    return state


async def _write(uow: UnitOfWork, deps: ReferralDeps) -> None:
    held = uow.memo.get(_PEOPLE)
    if held:
        await batch.write(uow.session, held, deps.territory.referral_sla)


def _in_batch(handler):  # noqa: ANN001, ANN202 - wraps any handler of the table below
    async def handle(event: Envelope, uow: UnitOfWork, deps: ReferralDeps) -> None:
        await handler(event, uow, deps)
        if uow.last_to_handle(event, HANDLERS):
            await _write(uow, deps)
            await uow.session.flush()  # waiting answers and notices too: a failure belongs to a handler

    return handle


# The facts that can change a referral or an orientation; everything else on the topics is not ours to act on.
HANDLERS: HandlerTable = {event_type: _in_batch(handler) for event_type, handler in {
    PersonRegistered: on_person_fact,
    PersonProfileUpdated: on_person_fact,
    BarrierIdentified: on_person_fact,
    ReferralIssued: on_person_fact,
    ReferralAcknowledged: on_person_fact,
    ReferralAccepted: on_person_fact,
    ReferralRefused: on_person_fact,
    ReferralFirstAppointmentHeld: on_person_fact,
    DispositifEntered: on_person_fact,
    DispositifExited: on_person_fact,
    JobStarted: on_person_fact,
    JobEnded: on_person_fact,
    CaseClosed: on_person_fact,  # a partner's (intake topic) or followup's (followup topic) closure
    PersonIdentitiesMerged: on_identities_merged,
    DayStarted: on_day_started,
}.items()}
