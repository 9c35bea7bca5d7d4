"""Accept one partner event: check it against the territory, resolve the person, emit the canonical event.

`accept` is shared by both ingress paths, each through the runtime's `apply_once`: the Kafka consumer of
ariane.inbound.v1 (through `HANDLERS`) and POST /v1/events (api.py, inside the request's transaction). What
must be refused raises Refused, a PermanentError whose message never quotes an identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from contracts import topics
from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES, PARTNER_TYPES
from contracts.people import PersonProfileUpdated, PersonRegistered
from services.intake.domain import identity, publication
from services.intake.store.identities import Outcome
from services.runtime.errors import PermanentError
from services.runtime.routing import HandlerTable
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # app.py builds IntakeDeps from this module's pieces: named for types only
    from services.intake.app import IntakeDeps

log = structlog.get_logger("ariane.intake")


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


async def _person_of_registration(event: PersonRegistered, uow: UnitOfWork, deps: IntakeDeps
                                  ) -> tuple[str, Outcome | None]:
    """A registration names its person by an identity block, or by a subject intake already knows."""
    resolver, session = deps.resolver, uow.session
    known = await resolver.person_for_subject(session, event.subject, event.source)
    identity_block = event.data.identity
    if identity_block is None and known is None:
        raise Refused("identity_missing",
                      "a registration needs an identity block, or a subject that is a known person_id")
    refs = identity.registration_refs(event.subject, event.source, event.data.partner_ref)
    if identity_block is None:
        assert known is not None
        for ref in refs:
            await resolver.link_ref(session, event.source, ref, known)
        return known, None
    facts = identity.facts_of(identity_block)
    if not facts.can_pseudonymise and known is None:
        raise Refused("identity_incomplete", "data.identity needs a NIR, or last_name + first_names + birth_date")
    try:
        outcome = await resolver.resolve(session, facts, source=event.source, partner_refs=refs,
                                         known_subject=known, cause_event_id=event.id)
    except LookupError as exc:
        raise Refused("identity_incomplete", str(exc)) from None
    return outcome.person_id, outcome


async def _person_of_subject(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> str:
    """Any other event is about a person_id intake handed back, or a reference its source registered."""
    resolver, session = deps.resolver, uow.session
    person_id = await resolver.person_for_subject(session, event.subject, event.source)
    if person_id is None:
        raise Refused("unknown_person",
                      "subject is neither a known person_id nor a reference this source registered")
    identity_block = getattr(event.data, "identity", None)
    if isinstance(event, PersonProfileUpdated) and identity_block is not None:
        await resolver.update_identity(session, person_id, identity.facts_of(identity_block))
    partner_ref = getattr(event.data, "partner_ref", None)
    if partner_ref:
        await resolver.link_ref(session, event.source, partner_ref, person_id)
    return person_id


async def accept(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> Accepted:
    """Accept one partner event: the person it is about, then what intake publishes of it."""
    problems = deps.structures.problems(event)
    if problems:
        raise Refused("unknown_structure", "; ".join(problems))
    outcome = None
    if isinstance(event, PersonRegistered):
        person_id, outcome = await _person_of_registration(event, uow, deps)
    else:
        person_id = await _person_of_subject(event, uow, deps)
    emitted = publication.to_publish(event, person_id, outcome.merged if outcome else (), deps.clock())
    for out in emitted:
        await uow.emit(out, topics.INTAKE)
    log.info("accepted", person_new=bool(outcome and outcome.is_new), merged=len(outcome.merged) if outcome else 0,
             emitted=[e.type for e in emitted])
    return Accepted(person_id, emitted, bool(outcome and outcome.is_new),
                    outcome.flagged_for_review if outcome else 0)


async def on_partner_event(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """A partner event read on ariane.inbound.v1: accepted as over HTTP; a refusal goes to the dead-letter topic."""
    try:
        accepted = await accept(event, uow, deps)
    except Refused as exc:
        deps.metrics.count("rejected", "kafka", deps.structures.source_label(event.source), event.type, exc.reason)
        raise
    deps.metrics.count_accepted("kafka", deps.structures.source_label(event.source), event.type, accepted.emitted,
                                accepted.flagged_for_review)


async def refuse_non_partner(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """Anything else on ariane.inbound.v1 is what Ariane's services emit: never accepted from a partner."""
    deps.metrics.count("rejected", "kafka", deps.structures.source_label(event.source), event.type,
                       "not_a_partner_event")
    raise Refused("not_a_partner_event", f"{event.type} is emitted by Ariane's services, not by partners")


# Every type a partner may send is accepted the same way; the rest goes to `refuse_non_partner` (app.py).
HANDLERS: HandlerTable = {EVENT_TYPES[t]: on_partner_event for t in sorted(PARTNER_TYPES)}
