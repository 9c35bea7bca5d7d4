"""The thin shell around the domain: load the person, decide, store, emit to ariane.referral.v1."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import structlog

from contracts import topics
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.territory import Territory
from services.referral import store
from services.referral.lifecycle import Decision, DomainRejection, PersonState, decide, on_day
from services.referral.metrics import ReferralMetrics
from services.referral.webhooks import receiving_structure
from services.runtime.errors import PermanentError
from services.runtime.unit_of_work import UnitOfWork

log = structlog.get_logger("ariane.referral")

# The facts that can change a referral or an orientation; everything else on the topics is not ours to act on.
RELEVANT_TYPES = frozenset({
    "person.registered", "person.profile_updated", "barrier.identified", "referral.issued", "referral.acknowledged",
    "referral.accepted", "referral.refused", "referral.first_appointment_held", "dispositif.entered",
    "dispositif.exited", "job.started", "job.ended",
})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ReferralHandler:
    def __init__(self, territory: Territory, metrics: ReferralMetrics | None = None,
                 webhook_urls: Mapping[str, str] | None = None, now: Callable[[], datetime] = utc_now) -> None:
        self.territory = territory
        self.metrics = metrics
        # {structure id: URL}; by default every webhook_url of the territory (the app passes the checked ones).
        self.webhook_urls = dict(webhook_urls) if webhook_urls is not None else {
            s.id: s.webhook_url for s in territory.structures if s.webhook_url}
        self.now = now  # only to date webhook notices (when the first attempt is due), never a decision

    async def __call__(self, event: Envelope, uow: UnitOfWork) -> None:
        if isinstance(event, DayStarted):
            await self.on_day_started(event, uow)
        elif type(event).short_type in RELEVANT_TYPES:
            await self.on_person_event(event, uow)

    async def on_person_event(self, event: Envelope, uow: UnitOfWork) -> None:
        state = await store.load_person(uow.session, event.subject)
        try:
            decision = decide(state, event, self.territory)
        except DomainRejection as exc:
            raise PermanentError(str(exc)) from exc
        await self._commit(state, decision, uow)

    async def on_day_started(self, tick: DayStarted, uow: UnitOfWork) -> None:
        people = await store.people_due(uow.session, tick.data.day)
        for person_id in people:
            state = await store.load_person(uow.session, person_id)
            await self._commit(state, on_day(state, tick, self.territory), uow)
        log.info("day_started", day=tick.data.day.isoformat(), people=len(people))

    async def _commit(self, before: PersonState, decision: Decision, uow: UnitOfWork) -> None:
        if decision.state == before:
            return
        await store.save_person(uow.session, decision.state, self.territory.referral_sla)
        for event in decision.events:
            await uow.emit(event, topics.REFERRAL)
            await self._queue_webhook(event, uow)
        if self.metrics is not None:
            self.metrics.observe(before, decision.state, decision.events)
        if decision.events:
            log.info("decided", emitted=[f"{e.type.rsplit('.', 1)[-1]}:{e.data.referral_id}" for e in decision.events])

    async def _queue_webhook(self, event: Envelope, uow: UnitOfWork) -> None:
        """The receiving structure's webhook gets the event too: queued in this transaction, with the bytes the
        relay publishes on Kafka, so the notice exists exactly when the decision does."""
        structure = receiving_structure(event)
        url = self.webhook_urls.get(structure) if structure else None
        if structure is None or url is None:
            return
        store.add_webhook_delivery(uow.session, event_id=event.id, event_type=event.type, structure_id=structure,
                                   url=url, body=event.to_json_bytes(), now=self.now())
