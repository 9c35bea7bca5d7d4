"""Accept one partner event: check it against the territory, resolve the person, emit the canonical event.

Shared by both ingress paths: the Kafka consumer of ariane.inbound.v1 (through the runtime's processor) and
POST /v1/events (inside the request's own transaction). What must be refused raises Refused, a PermanentError
whose message never quotes an identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import structlog

from contracts import topics
from contracts.envelope import Envelope
from contracts.events import PARTNER_TYPES
from contracts.people import (
    PersonIdentitiesMerged,
    PersonIdentitiesMergedData,
    PersonProfileUpdated,
    PersonRegistered,
    without_identity,
)
from contracts.territory import Territory
from services.intake import domain
from services.intake.identity import IdentityResolver, facts_of
from services.intake.metrics import IntakeMetrics
from services.runtime.errors import PermanentError
from services.runtime.processor import Handler
from services.runtime.unit_of_work import UnitOfWork

log = structlog.get_logger("ariane.intake")

SERVICE_SOURCE = "ariane/intake"
_STRUCTURE_FIELDS = ("structure_id", "from_structure", "to_structure")


class Refused(PermanentError):
    """An event intake will never accept as it is; `reason` is a short stable code for metrics and answers."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Accepted:
    """What accepting one event did: the person, and the events queued for ariane.intake.v1."""

    person_id: str | None
    emitted: list[Envelope]
    new_person: bool = False
    flagged_for_review: int = 0


class Intake:
    def __init__(self, territory: Territory, resolver: IdentityResolver, metrics: IntakeMetrics | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.territory = territory
        self.resolver = resolver
        self.metrics = metrics
        self.clock = clock
        self.structures = frozenset(s.id for s in territory.structures)
        self.targets = self.structures | frozenset(d.id for d in territory.dispositifs)

    def source_label(self, source: str) -> str:
        return source if source in self.structures else "unknown"

    def count(self, outcome: str, ingress: str, event: Envelope, reason: str = "") -> None:
        if self.metrics is not None:
            self.metrics.count(outcome, ingress, self.source_label(event.source), event.type, reason)

    def count_accepted(self, accepted: Accepted, ingress: str, event: Envelope) -> None:
        self.count("accepted", ingress, event)
        if self.metrics is not None:
            for merge in accepted.emitted:
                if isinstance(merge, PersonIdentitiesMerged):
                    self.metrics.merges.labels(merge.data.rule).inc()
            if accepted.flagged_for_review:
                self.metrics.reviews.inc(accepted.flagged_for_review)

    def check_structures(self, event: Envelope) -> None:
        named = [getattr(event.data, f) for f in _STRUCTURE_FIELDS if getattr(event.data, f, None)]
        problems = domain.unknown_structures(event.source, named, self.structures, self.targets)
        if problems:
            raise Refused("unknown_structure", "; ".join(problems))

    async def accept(self, event: Envelope, uow: UnitOfWork) -> Accepted:
        self.check_structures(event)
        session = uow.session
        outcome = None
        identity = getattr(event.data, "identity", None)
        if isinstance(event, PersonRegistered):
            known = await self.resolver.person_for_subject(session, event.subject, event.source)
            if identity is None and known is None:
                raise Refused("identity_missing",
                              "a registration needs an identity block, or a subject that is a known person_id")
            refs = tuple(dict.fromkeys(r for r in (
                event.data.partner_ref,
                None if domain.is_person_id(event.subject) else domain.partner_ref_of(event.subject, event.source),
            ) if r))
            if identity is not None:
                facts = facts_of(identity)
                if not facts.can_pseudonymise and known is None:
                    raise Refused("identity_incomplete",
                                  "data.identity needs a NIR, or last_name + first_names + birth_date")
                try:
                    outcome = await self.resolver.resolve(session, facts, source=event.source, partner_refs=refs,
                                                          known_subject=known, cause_event_id=event.id)
                except LookupError as exc:
                    raise Refused("identity_incomplete", str(exc)) from None
                person_id = outcome.person_id
            else:
                assert known is not None
                person_id = known
                for ref in refs:
                    await self.resolver._link_ref(session, event.source, ref, person_id)  # noqa: SLF001
        else:
            found = await self.resolver.person_for_subject(session, event.subject, event.source)
            if found is None:
                raise Refused("unknown_person",
                              "subject is neither a known person_id nor a reference this source registered")
            person_id = found
            if isinstance(event, PersonProfileUpdated) and identity is not None:
                await self.resolver.update_identity(session, person_id, facts_of(identity))
            partner_ref = getattr(event.data, "partner_ref", None)
            if partner_ref:
                await self.resolver._link_ref(session, event.source, partner_ref, person_id)  # noqa: SLF001

        recorded = self.clock()
        emitted: list[Envelope] = []
        if outcome is not None:
            for merged_id, rule in outcome.merged:
                emitted.append(PersonIdentitiesMerged(
                    id=f"{event.id}:merged:{merged_id}", source=SERVICE_SOURCE, subject=person_id, time=event.time,
                    correlationid=event.correlationid or event.id, causationid=event.id, recordedtime=recorded,
                    data=PersonIdentitiesMergedData(kept_person_id=person_id, merged_person_id=merged_id,
                                                    rule=domain.merge_rule_name(rule))))
        canonical = without_identity(event)
        if canonical is not None:
            canonical = canonical.model_copy(update={"subject": person_id, "recordedtime": recorded})
            emitted.insert(0, canonical)
        for out in emitted:
            await uow.emit(out, topics.INTAKE)
        log.info("accepted", person_new=bool(outcome and outcome.is_new), merged=len(outcome.merged) if outcome else 0,
                 emitted=[e.type for e in emitted])
        return Accepted(person_id, emitted, bool(outcome and outcome.is_new),
                        outcome.flagged_for_review if outcome else 0)


def make_inbound_handler(intake: Intake) -> Handler:
    """The handler of ariane.inbound.v1: the same acceptance as HTTP; refusals go to the dead-letter topic."""

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        if event.type not in PARTNER_TYPES:
            intake.count("rejected", "kafka", event, "not_a_partner_event")
            raise Refused("not_a_partner_event", f"{event.type} is emitted by Ariane's services, not by partners")
        try:
            accepted = await intake.accept(event, uow)
        except Refused as exc:
            intake.count("rejected", "kafka", event, exc.reason)
            raise
        intake.count_accepted(accepted, "kafka", event)

    return handle


def redact_original(raw: bytes) -> bytes:
    """What the dead-letter topic keeps of a refused inbound record: the event without its identity block.

    A record that is not even a JSON object is withheld entirely: nobody can tell what it holds."""
    import json

    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return b'{"redacted": "unparseable original withheld by intake"}'
    if not isinstance(body, dict):
        return b'{"redacted": "non-object original withheld by intake"}'
    data = body.get("data")
    if isinstance(data, dict) and "identity" in data:
        data = {**data, "identity": "[redacted by intake]"}
        body = {**body, "data": data}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
