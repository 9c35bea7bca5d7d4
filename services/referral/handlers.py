"""The thin shell around the rules: load the person, call the rule, store, emit to ariane.referral.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from contracts import topics
from contracts.barriers import BarrierIdentified
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import CaseClosed
from contracts.pathway import DispositifEntered, DispositifExited, JobEnded, JobStarted
from contracts.people import PersonProfileUpdated, PersonRegistered
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralRefused,
)
from services.referral import store
from services.referral.domain.lifecycle import Decision, DomainRejection, PersonState, decide, on_day
from services.referral.domain.webhook_targets import receiving_structure
from services.runtime.errors import PermanentError
from services.runtime.routing import HandlerTable
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.referral.app import ReferralDeps

log = structlog.get_logger("ariane.referral")


async def on_person_fact(event: Envelope, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """A fact about one person that may change their referrals or their orientation."""
    state = await store.load_person(uow.session, event.subject)
    try:
        decision = decide(state, event, deps.territory)
    except DomainRejection as exc:
        raise PermanentError(str(exc)) from exc
    await _commit(state, decision, uow, deps)


async def on_day_started(tick: DayStarted, uow: UnitOfWork, deps: ReferralDeps) -> None:
    """Reminders and expiries of the day, for the people with a referral the day may act on."""
    people = await store.people_due(uow.session, tick.data.day)
    for person_id in people:
        state = await store.load_person(uow.session, person_id)
        await _commit(state, on_day(state, tick, deps.territory), uow, deps)
    log.info("day_started", day=tick.data.day.isoformat(), people=len(people))


async def _commit(before: PersonState, decision: Decision, uow: UnitOfWork, deps: ReferralDeps) -> None:
    if decision.state == before:
        return
    await store.save_person(uow.session, decision.state, deps.territory.referral_sla)
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


# The facts that can change a referral or an orientation; everything else on the topics is not ours to act on.
HANDLERS: HandlerTable = {
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
    DayStarted: on_day_started,
}
