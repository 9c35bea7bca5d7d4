"""Admit one partner event: the same checks and the same verdict whichever way it came.

`admit` is shared by both ingress paths: POST /v1/events (api.py, inside the request's transaction) and the
consumer of the partners' topics, ariane.inbound.v1.<structure id> (`on_inbound`, through `HANDLERS`). Both
first check that the event's source is its authenticated sender (`admission.sent_by`: the API key's structure,
or the partner whose own topic the record was read from). `admit` then checks the envelope, the dates, personal
data and the structures named, then tells a duplicate (same source, id and content) from a conflict (same
source and id, other content), then `accept`s: the person, and what is published. A refused event writes
nothing, so its id stays free for the corrected event. Refusals never quote a value, only field names.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import structlog

from contracts import topics
from contracts.clock import DayStarted
from contracts.envelope import Envelope, utc
from contracts.erasure import ErasureReason, PersonErased
from contracts.events import ContractError, FieldError, parse_event
from contracts.followup import CaseClosed, CheckinDue, PersonAtRisk, PersonLost
from contracts.identity import ReviewDecision
from contracts.people import Identity, PersonProfileUpdated, PersonRegistered
from contracts.referrals import ReferralIssued
from services.intake.domain import checks, erasure, identity, pii, publication, reviews
from services.intake.domain.admission import is_partner_event, sent_by, type_label
from services.intake.domain.entitlements import entitled_by
from services.intake.domain.redaction import redact_original
from services.intake.metrics import DeferredCounts, IntakeMetrics
from services.intake.store import entitlements, erasures, known
from services.intake.store import reviews as stored_reviews
from services.intake.store import events as accepted_events
from services.intake.store.identities import Outcome, Unresolvable
from services.intake.store.randomness import random_bytes
from services.runtime.deadletter import DeadLetter
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
    if known is not None and await resolver.is_erased(session, known):
        if identity_block is None:
            raise Refused("person_erased", "this person was erased: Ariane takes no more events about them")
        known = None  # registered again with an identity: a new person, never tied back to the erased one
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
                                         known_subject=known, cause_event_id=event.id, when=deps.clock())
    except Unresolvable as exc:
        raise Refused("identity_incomplete", str(exc)) from None
    return outcome.person_id, outcome


async def _person_of_subject(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> str:
    """Any other event is about a person_id intake handed back, or a reference its source registered."""
    resolver, session = deps.resolver, uow.session
    person_id = await resolver.person_for_subject(session, event.subject, event.source)
    if person_id is None:
        raise Refused("unknown_person",
                      "subject is neither a known person_id nor a reference this source registered")
    if await resolver.is_erased(session, person_id):
        raise Refused("person_erased", "this person was erased: Ariane takes no more events about them")
    identity_block = getattr(event.data, "identity", None)
    if isinstance(event, PersonProfileUpdated) and identity_block is not None:
        await resolver.update_identity(session, person_id, identity.facts_of(identity_block))
    partner_ref = getattr(event.data, "partner_ref", None)
    if partner_ref:
        await resolver.link_ref(session, event.source, partner_ref, person_id)
    return person_id


async def accept(event: Envelope, uow: UnitOfWork, deps: IntakeDeps) -> Accepted:
    """Accept one partner event: the person it is about, then what intake publishes of it."""
    outcome = None
    if isinstance(event, PersonRegistered):
        person_id, outcome = await _person_of_registration(event, uow, deps)
    else:
        person_id = await _person_of_subject(event, uow, deps)
    recorded = deps.clock()
    emitted = publication.to_publish(event, person_id, outcome.merged if outcome else (), recorded)
    # The pairs this registration made doubtful, announced with it: the review row and its event commit together.
    emitted += [reviews.opened_event(review, event.id, event.correlationid, event.time, recorded)
                for review in (outcome.reviews if outcome else ())]
    # The outbox row needs nothing pending: the rows of the events accepted before it (store.events.record)
    # are left to go to the database together.
    with uow.session.no_autoflush:
        for out in emitted:
            await uow.emit(out, topics.INTAKE)
    await entitlements.grant(uow.session, person_id, entitled_by(event), event.time)
    await _closure_follows(event, person_id, uow, deps)
    # At debug: a JSON line per accepted event (about 1% of admitting's profile, and a line per event at hundreds
    # a second); the verdicts are counted in ariane_intake_events_total, refusals keep their line at info.
    log.debug("accepted", person_new=bool(outcome and outcome.is_new), merged=len(outcome.merged) if outcome else 0,
              emitted=[e.type for e in emitted])
    return Accepted(person_id, emitted, bool(outcome and outcome.is_new),
                    outcome.flagged_for_review if outcome else 0)


Status = Literal["accepted", "duplicate", "conflict", "rejected"]


@dataclass
class Verdict:
    """What intake decided for one event; `id` is the event's id when it is safe to repeat it back."""

    status: Status
    id: str | None = None
    person_id: str | None = None
    published_id: str | None = None
    reason: str | None = None
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)


def _safe_id(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("id")
    if isinstance(value, str) and 0 < len(value) <= 128 and "\x00" not in value and not pii.kinds_in(value):
        return value
    return None


_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_]{1,64}")


def _safe_loc(loc: str) -> str:
    """A field path whose made-up segments (an unknown key may itself be a name or a NIR) are not repeated."""
    return ".".join(part if _SAFE_SEGMENT.fullmatch(part) and not pii.kinds_in(part) else "<unexpected key>"
                    for part in loc.split(".")) if loc else loc


def _contract_errors(exc: ContractError) -> list[FieldError]:
    """Contract errors without the values pydantic may quote (an unknown type is not repeated back), nor keys
    that are not the contract's."""
    return [FieldError(_safe_loc(e.loc), "Unknown event type" if e.type == "unknown_event_type" else e.msg, e.type)
            for e in exc.errors]


def _refused(raw: Mapping[str, Any], reason: str, detail: str, errors: list[FieldError] | None = None) -> Verdict:
    return Verdict("rejected", _safe_id(raw), reason=reason, detail=detail, errors=errors or [])


async def load_lookups(raws: Iterable[Any], uow: UnitOfWork, deps: IntakeDeps) -> None:
    """Read at once, for a batch of raw partner events admitted in one transaction, the rows their admission
    will look up one by one: whether each (source, id) was accepted and its id published, the partners'
    references their subjects name, the people behind them and their closures (store.known). Only a speed-up:
    an event whose rows are not read here (a malformed one, an identity) is looked up alone, as before."""
    pairs: list[tuple[str, str]] = []
    refs: list[tuple[str, str]] = []
    person_ids: list[str] = []
    identities: list[identity.IdentityFacts] = []
    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        source, event_id, subject, data = raw.get("source"), raw.get("id"), raw.get("subject"), raw.get("data")
        if raw.get("type") == PersonRegistered.model_fields["type"].default and isinstance(data, Mapping):
            facts = _identity_or_none(data.get("identity"))
            if facts is not None:
                identities.append(facts)
        # A text with a NUL character is refused before any look-up (`_admit`), and PostgreSQL could not even be
        # asked about it: the whole batch's look-up would fail.
        if not isinstance(source, str) or not isinstance(event_id, str) or "\x00" in source or "\x00" in event_id:
            continue
        pairs.append((source, event_id))
        if isinstance(subject, str) and "\x00" not in subject:
            if identity.is_person_id(subject):
                person_ids.append(subject)
            else:
                refs.append((source, identity.partner_ref_of(subject, source)))
        partner_ref = data.get("partner_ref") if isinstance(data, Mapping) else None
        if isinstance(partner_ref, str) and "\x00" not in partner_ref:
            refs.append((source, partner_ref))
    await accepted_events.load(uow.session, deps.settings.territory_key, pairs)
    await erasures.load_closures(uow.session, await deps.resolver.load(uow.session, refs, person_ids, identities))


def _identity_or_none(block: Any) -> identity.IdentityFacts | None:
    """The facts of a registration's identity block as `admit` will read them, or None if it is not one (the
    event is refused later, or looked up alone)."""
    if not isinstance(block, Mapping):
        return None
    try:
        return identity.facts_of(Identity.model_validate(block))
    except ValueError:  # pydantic's ValidationError: `admit` refuses the event with its reasons
        return None


async def admit(raw: Any, uow: UnitOfWork, deps: IntakeDeps, *, ingress: str) -> Verdict:
    """Check one partner event and accept it unless it was accepted before; count the verdict."""
    verdict = await _admit(raw, uow, deps)
    source = raw.get("source") if isinstance(raw, Mapping) else None
    event_type = raw.get("type") if isinstance(raw, Mapping) else None
    deps.metrics.count(verdict.status, ingress, deps.structures.source_label(source), type_label(event_type),
                       verdict.reason or "")
    if verdict.status != "accepted":
        log.info("not_accepted", status=verdict.status, reason=verdict.reason, ingress=ingress,
                 type=type_label(event_type), fields=sorted({e.loc for e in verdict.errors})[:10])
    return verdict


async def _admit(raw: Any, uow: UnitOfWork, deps: IntakeDeps) -> Verdict:  # noqa: C901 - one linear pipeline
    if not isinstance(raw, Mapping):
        return Verdict("rejected", reason="invalid_event", detail="an event is a JSON object",
                       errors=[FieldError("", "An event must be a JSON object", "model_type")])
    missing = checks.missing_attributes(raw)
    if missing:
        return _refused(raw, "invalid_event", "CloudEvents requires id, source, specversion and type", missing)
    nul = checks.nul_characters(raw)
    if nul:
        return _refused(raw, "invalid_event", "text must not contain the NUL character (U+0000)", nul)
    try:
        event = parse_event(raw)
    except ContractError as exc:
        return _refused(raw, "invalid_event", "the event does not follow its contract", _contract_errors(exc))
    if not is_partner_event(event.type):
        return _refused(raw, "not_a_partner_event", "this type is emitted by Ariane's services, not by partners")

    digest = checks.content_sha256(raw)
    seen = await accepted_events.seen_before(uow.session, deps.settings.territory_key, event.source, event.id, digest)
    if seen is not None:
        if seen.same_content:
            return Verdict("duplicate", _safe_id(raw), person_id=seen.person_id, published_id=seen.published_id)
        return Verdict("conflict", _safe_id(raw), reason="id_conflict",
                       detail="this source already sent a different event with this id: a new event needs a new id")

    problems = checks.date_problems(event, raw, checks.Window(deps.clock()))
    if problems:
        return _refused(raw, "implausible_event", "dates or times that make no sense", problems)
    if deps.settings.pii_firewall:
        problems = checks.personal_data_problems(event, raw)
        if problems:
            return _refused(raw, "personal_data", "personal data outside data.identity, or an identifier that "
                            "does not follow its pattern", problems)
    unknown = deps.structures.problems(event)
    if unknown:
        return _refused(raw, "unknown_structure", "; ".join(unknown))
    foreign = deps.structures.impersonations(event)
    if foreign:
        return _refused(raw, "forbidden_structure", "; ".join(foreign))

    published = checks.published_id(event.id, event.source,
                                     await accepted_events.id_is_published(uow.session, deps.settings.territory_key,
                                                                          event.id))
    # No SAVEPOINT: `accept` refuses only before its first write (every `Refused` comes from what it reads), so
    # a refused event has written nothing to undo. Any other failure is the caller's to undo: the consumer
    # applies its batch again with a SAVEPOINT per record, the HTTP admissions their group with one per request.
    try:
        outcome = await accept(event.model_copy(update={"id": published}) if published != event.id else event,
                               uow, deps)
    except Refused as exc:
        return _refused(raw, exc.reason, exc.detail)
    await accepted_events.record(uow.session, source=event.source, event_id=event.id,
                                 content_sha256=digest, published_id=published, person_id=outcome.person_id)
    if uow.session.in_nested_transaction():
        # Isolated (each event or request in its own SAVEPOINT): its row is written inside it, so that a
        # failure to write it is this event's, never the next one's.
        await uow.session.flush()
    deps.metrics.count_merges(outcome.emitted, outcome.flagged_for_review)
    return Verdict("accepted", _safe_id(raw), person_id=outcome.person_id, published_id=published)


# --------------------------------------------------------------------------- the Kafka path


class InboundRecord(Envelope):
    """A record read on a partner's topic, as the runtime hands it over: intake parses and judges it itself,
    so that a refusal is dead-lettered the same way as over HTTP and never consumes the event's id. Each
    delivery gets its own id: whether an event was accepted before is intake's (source, id) record.
    `sender` is the structure whose topic it was read from: the broker lets only that partner write there."""

    short_type: ClassVar[str] = "intake.inbound_record"
    type: Literal["ariane.intake.inbound_record"] = "ariane.intake.inbound_record"
    sender: str
    data: bytes


def parse_inbound(raw: bytes, sender: str) -> InboundRecord:
    """Wraps a record of `sender`'s topic: never fails, never reads the record's key."""
    # A random (version 4) UUID from the buffered kernel randomness: uuid4() reads the kernel once per record.
    delivery = uuid.UUID(bytes=random_bytes(16), version=4)
    return InboundRecord(id=f"inbound:{delivery.hex}", source=publication.SERVICE_SOURCE, subject="inbound",
                         time=datetime.now(timezone.utc), sender=sender, data=raw)


def inbound_parser(sender: str) -> Callable[[bytes], InboundRecord]:
    """The runtime's parser for the topic of `sender` (ariane.inbound.v1.<sender>): the sender comes from the
    topic the record was read on, never from the record."""
    return lambda raw: parse_inbound(raw, sender)


@dataclass(frozen=True)
class _IntakeLetter(DeadLetter):
    """A dead letter named by the digest of the refused bytes, keyed by partition (never a partner's key)."""

    digest: str = ""

    @property
    def letter_id(self) -> str:
        return f"dlq:{self.service}:{self.topic}:{self.digest[:32]}"


def _not_the_sender(raw: Mapping[str, Any], sender: str, deps: IntakeDeps) -> Verdict:
    """An event on a partner's topic naming another source: refused before anything is read or written (so
    its id stays free), as over HTTP an event whose source is not the key's structure is refused with 403."""
    deps.metrics.count("rejected", "kafka", deps.structures.source_label(sender), type_label(raw.get("type")),
                       "forbidden_source")
    log.info("not_accepted", status="rejected", reason="forbidden_source", ingress="kafka",
             type=type_label(raw.get("type")))
    return _refused(raw, "forbidden_source",
                    f"source is not {sender}, the structure whose topic ({topics.inbound_topic(sender)}) this record "
                    "was written to: a partner sends only its own events, on its own topic")


_BATCH_LOADED = "intake.batch_loaded"


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


async def on_inbound(record: InboundRecord, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """A partner event read on its sender's topic: its source must be that sender, then it is admitted as over
    HTTP; anything else is dead-lettered, redacted, with its reason. Its verdict and merges are counted once the
    batch has committed (a batch applied again after a failure counts them once, as over HTTP)."""
    counts = DeferredCounts()
    await _on_inbound(record, uow, replace(deps, metrics=cast(IntakeMetrics, counts)))
    uow.on_commit(lambda: counts.into(deps.metrics))


async def _on_inbound(record: InboundRecord, uow: UnitOfWork, deps: IntakeDeps) -> None:
    if not uow.session.info.get(_BATCH_LOADED):
        # The first partner record of a consumed batch: what the batch's records will look up, in one round.
        uow.session.info[_BATCH_LOADED] = True
        await load_lookups([_json_or_none(r.data) for r in uow.batch if isinstance(r, InboundRecord)], uow, deps)
    try:
        raw = json.loads(record.data)
    except (ValueError, UnicodeDecodeError):
        raw = None
        verdict = Verdict("rejected", reason="unparseable", detail="the record is not JSON")
        deps.metrics.count("rejected", "kafka", "unknown", "unknown", "unparseable")
    else:
        if isinstance(raw, Mapping) and not sent_by(raw, record.sender):
            verdict = _not_the_sender(raw, record.sender, deps)
        else:  # what is not an event at all is refused by `admit`, as over HTTP
            verdict = await admit(raw, uow, deps, ingress="kafka")
    if verdict.status in ("accepted", "duplicate"):
        return
    # Where the runtime is reading (it binds the record's position to the log context of each record).
    position = structlog.contextvars.get_contextvars()
    letter = _IntakeLetter(
        service="intake", reason=f"{verdict.reason}: {verdict.detail}"[:2000],
        topic=str(position.get("topic", uow.topic_prefix + topics.inbound_topic(record.sender))),
        partition=int(position.get("partition", -1)), offset=int(position.get("offset", -1)), key=None,
        original=redact_original(record.data), errors=tuple(e.as_dict() for e in verdict.errors),
        digest=checks.content_sha256({"bytes": record.data.hex()}))
    await uow.dead_letter(letter)
    log.warning("dead_lettered", reason=verdict.reason, letter_id=letter.letter_id)


# --------------------------------------------------------------------------- who is asked to act


_ASKED_LOADED = "intake.asked_loaded"


async def on_asked_to_act(event: ReferralIssued | PersonAtRisk | PersonLost | CheckinDue, uow: UnitOfWork,
                          deps: IntakeDeps) -> None:
    """A referral, an alert or a check-in names the structure that must act on a person: from now on that
    structure may see the person's identity (`asked_to_act`). Nothing is emitted."""
    if not uow.session.info.get(_ASKED_LOADED):
        # The first of a consumed batch: the people all of them are about, read in one round.
        uow.session.info[_ASKED_LOADED] = True
        await deps.resolver.load(uow.session, [], [e.subject for e in uow.batch
                                                   if type(e) in _ASKED_TO_ACT and "\x00" not in e.subject])
    person_id = await deps.resolver.canonical(uow.session, event.subject) or event.subject
    await entitlements.grant(uow.session, person_id, entitled_by(event), event.time)


# --------------------------------------------------------------------------- erasure and retention


def _day(moment: datetime, deps: IntakeDeps) -> date:
    """The territory's calendar day of an instant."""
    return utc(moment).astimezone(ZoneInfo(deps.territory.timezone)).date()


async def _closure_follows(event: Envelope, person_id: str, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """A closure starts the retention clock; any other event about the person after it stops it."""
    if isinstance(event, CaseClosed):
        await erasures.closed(uow.session, person_id, _day(event.time, deps))
    else:
        await erasures.reopened(uow.session, person_id, _day(event.time, deps))


async def erase_person(uow: UnitOfWork, deps: IntakeDeps, person_id: str, reason: ErasureReason, requested_by: str,
                       key_id: str, role: str) -> PersonErased:
    """Erase a person (a canonical id not yet erased), in the caller's transaction: shred the key and identity
    of the person and of every id folded into it, drop blind indexes, file numbers and intake's copies of what
    it published about them, keep only keyed digests of the partners' ids of the events accepted about them, decide their pending reviews, record the erasure and put person.erased in the
    outbox. `POST /v1/erasures` and the retention clock both erase through here."""
    now = deps.clock()
    ids = await deps.resolver.shred(uow.session, person_id)
    await accepted_events.forget(uow.session, deps.settings.territory_key, ids)
    await erasures.forget_published(uow.session, uow.tables.outbox, ids)
    await erasures.forget_closure(uow.session, ids)
    for row in await erasures.reviews_of(uow.session, ids):
        # An erased person is nobody's double any more: no review waits for a decision that cannot be taken.
        if row.status != reviews.PENDING:
            continue
        review = stored_reviews.as_opening(row)
        decided = reviews.decide(row.status, review, ReviewDecision.DIFFERENT_PEOPLE, requested_by,
                                 erasure.REVIEW_NOTE, (review.person_id, review.other_person_id), False, now)
        if await stored_reviews.mark_decided(uow.session, review.review_id, ReviewDecision.DIFFERENT_PEOPLE.value,
                                             requested_by, now, erasure.REVIEW_NOTE):
            for out in decided.events:
                await uow.emit(out, topics.INTAKE)
    event = erasure.erased_event(f"era-{uuid.uuid4().hex}", person_id, ids, reason, requested_by, now,
                                 _day(now, deps))
    await erasures.record(uow.session, event, key_id, role)
    await uow.emit(event, topics.INTAKE)
    log.info("erased", reason=reason.value, role=role, merged=len(ids) - 1)
    return event


async def on_case_closed(event: CaseClosed, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """Followup closed a person's case (ariane.followup.v1): the retention clock starts from that day."""
    person_id = await deps.resolver.canonical(uow.session, event.subject)
    if person_id is not None and not await deps.resolver.is_erased(uow.session, person_id):
        await erasures.closed(uow.session, person_id, _day(event.time, deps))


async def on_day_started(event: DayStarted, uow: UnitOfWork, deps: IntakeDeps) -> None:
    """A new day: the people closed for longer than the territory's retention period are erased (at most
    `RETENTION_BATCH` a day; the rest on the next days, oldest closure first)."""
    until = event.data.day - timedelta(days=deps.territory.retention_days)
    for person_id in await erasures.closed_before(uow.session, until, RETENTION_BATCH):
        canonical = await deps.resolver.canonical(uow.session, person_id)
        if canonical is None or await erasures.of_person(uow.session, canonical) is not None:
            await erasures.forget_closure(uow.session, [person_id])
            continue
        await erase_person(uow, deps, canonical, ErasureReason.RETENTION_PERIOD_OVER, erasure.CLOCK, erasure.CLOCK,
                           erasure.CLOCK)


RETENTION_BATCH = 500


_ASKED_TO_ACT = (ReferralIssued, PersonAtRisk, PersonLost, CheckinDue)


def _in_batch(handler: Callable[[Any, UnitOfWork, IntakeDeps], Awaitable[None]]
              ) -> Callable[[Any, UnitOfWork, IntakeDeps], Awaitable[None]]:
    """A consumed batch applied in one go writes what its handlers gathered (the grants, the rows the ORM holds
    back: store.known.batched) after the last of its events that reaches this table, inside that handler, so
    that a failure to write them is a handler's (the batch is then applied again, each record isolated) and
    never the commit's."""
    async def handle(event: Any, uow: UnitOfWork, deps: IntakeDeps) -> None:
        if not uow.session.in_nested_transaction():
            known.start_batch(uow.session)
        await handler(event, uow, deps)
        if uow.last_to_handle(event, HANDLERS):
            await write_gathered(uow)

    return handle


async def write_gathered(uow: UnitOfWork) -> None:
    """What a batch admitted in one go left to write at its end: its grants, its vault's rows, its accepted events,
    then the ORM's pending rows."""
    await entitlements.write_gathered(uow.session)
    await known.write_gathered(uow.session)
    await accepted_events.write_gathered(uow.session)
    await uow.session.flush()


# The partners' topics are read through `inbound_parser`: every record reaches `on_inbound`. ariane.referral.v1 and
# ariane.followup.v1 are read as events (app.py): those naming a structure to act reach `on_asked_to_act`,
# closures start the retention clock; ariane.clock.v1's days erase who was closed longer than the territory's
# retention period. The rest is not intake's business.
HANDLERS: HandlerTable = {
    InboundRecord: _in_batch(on_inbound),
    ReferralIssued: _in_batch(on_asked_to_act),
    PersonAtRisk: _in_batch(on_asked_to_act),
    PersonLost: _in_batch(on_asked_to_act),
    CheckinDue: _in_batch(on_asked_to_act),
    CaseClosed: _in_batch(on_case_closed),
    DayStarted: _in_batch(on_day_started),
}
