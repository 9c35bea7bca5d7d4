"""POST /v1/events: partner events over HTTP, answered per event, 202 only once accepted events are on Kafka.

Order of work, so that refused requests leave no trace: media type (415), size limits (413), authentication
(401), JSON (400), the `source` of every event against the authenticated structure (403), the admission limit
(503 + Retry-After at once past `max_events_in_flight` events in flight, nothing written), then each event is
judged by `handlers.admit`, exactly as the Kafka consumer judges what it reads (a refused event writes nothing; an
accepted one its vault, (source, id) and outbox rows), inside a savepoint of a transaction shared with the
requests waiting at that moment (`admissions.py`): the request's rows are all stored, or none. After the commit
the request waits until the relay has published those outbox rows (and those of duplicates first stored by an
earlier attempt). If the broker is down that wait times out: 503 + Retry-After. The rows stay in the outbox and
reach Kafka when the broker is back; retrying the same batch then answers `duplicate` for them, once they are on
Kafka. A store too busy to take the request (its write lock not had in time) is a 503 + Retry-After too: nothing
of the request was written.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.intake.api.admissions import Admissions
from services.intake.api.caller import intake_deps
from services.intake.domain import api_keys, checks
from services.intake.domain.admission import sent_by
from services.intake.store import credentials
from services.runtime.errors import is_transient, is_write_race
from services.runtime.service import ServiceContext

log = structlog.get_logger("ariane.intake")

if TYPE_CHECKING:  # app.py builds IntakeDeps from this module's pieces: named for types only
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["ingress"])


# application/json, and the CloudEvents media types of structured mode (one event) and batches.
MEDIA_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")


class FieldProblem(BaseModel):
    loc: str = Field(description="Path of the problem in the event, e.g. data.birth_year.")
    msg: str
    type: str


class EventAnswer(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for a single event).")
    id: str | None = Field(default=None, description="The event id, when it could be read (and holds no personal "
                           "data).")
    status: Literal["accepted", "duplicate", "conflict", "rejected"] = Field(
        description="accepted: on Kafka now; duplicate: this source sent this very event before (it is on "
        "Kafka); conflict: this source sent a different event with this id before (nothing was written); "
        "rejected: see reason and errors, nothing was written for it and its id stays free.")
    person_id: str | None = Field(default=None, description="The pseudonymous person_id the event is about; keep "
                                  "it to use as the subject of later events.")
    reason: str | None = Field(default=None, description="Why it was rejected (a stable code).")
    detail: str | None = None
    errors: list[FieldProblem] = Field(default_factory=list, description="Field-level contract errors.")


class IngressAnswer(BaseModel):
    accepted: int
    duplicate: int
    conflict: int = 0
    rejected: int
    results: list[EventAnswer]


class ErrorAnswer(BaseModel):
    error: str
    detail: str


_BODY_SCHEMA = {
    "description": "One CloudEvents 1.0 partner event of the Ariane contracts (contracts/schemas), or a JSON array "
                   "of them. Events may carry data.identity (registrations and profile updates): intake keeps it in "
                   "its vault and never publishes it.",
    "oneOf": [{"$ref": "#/components/schemas/PartnerEvent"},
              {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/PartnerEvent"}}]}
_REQUEST_BODY = {"required": True, "content": {media: {"schema": _BODY_SCHEMA} for media in MEDIA_TYPES}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": IngressAnswer, "description": "Every accepted event is durably on Kafka; one answer per event."},
    400: {"model": ErrorAnswer, "description": "The body is not JSON, or neither an object nor an array."},
    401: {"model": ErrorAnswer, "description": "No valid API key or signature."},
    403: {"model": ErrorAnswer, "description": "An event's source is not the authenticated structure, or the key is "
          "the coordinator's or an auditor's, which read Ariane and send no event (a structure's partner and "
          "counsellor keys send its events)."},
    409: {"model": IngressAnswer, "description": "No event could be accepted and at least one reuses the id of a "
          "different event this source sent before (status `conflict`)."},
    413: {"model": ErrorAnswer, "description": "Body or batch too large."},
    415: {"model": ErrorAnswer, "description": "Content-Type is not application/json (or a CloudEvents JSON type)."},
    422: {"model": IngressAnswer, "description": "No event could be accepted; errors per event with their path "
          "(never their value)."},
    503: {"model": ErrorAnswer, "description": "Retry the same request after Retry-After seconds. `busy`: the "
          "admission limit was reached (more than ARIANE_INTAKE_MAX_EVENTS_IN_FLIGHT events, 1,000 by default, "
          "being handled at once; a request is always taken when nothing else is in flight) or the store was too "
          "busy: nothing was written. `broker_unavailable`: the events are stored but Kafka did not confirm them in "
          "time; events already stored answer `duplicate` once they are on Kafka."},
}


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _authenticate(request: Request, ctx: ServiceContext, deps: IntakeDeps, body: bytes) -> str | None:
    """The structure a request speaks for: a partner key intake issued (its store keeps the signing keys), not
    revoked in intake's store nor in the credentials book (`ariane structures revoke` may reach only the book);
    or a counsellor's key of the book, for its own structure: a structure's user answers a check-in or hands a
    caseload over from the page, as the structure (bearer only: a user has no signing key)."""
    auth = request.headers.get("authorization", "")
    # A read: never queued for the write lock behind the requests being admitted (SQLite).
    async with ctx.read_session_factory() as session:
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            parts = api_keys.split_key(token)
            if parts is None or _revoked_in_book(deps, parts[0]):
                return None
            user = deps.credentials.check(token)
            if user is not None and user.role == "counsellor":
                return user.structure
            return await credentials.structure_for_bearer(session, token)
        key_id = request.headers.get(api_keys.KEY_ID_HEADER)
        ts = request.headers.get(api_keys.TIMESTAMP_HEADER)
        sig = request.headers.get(api_keys.SIGNATURE_HEADER)
        if key_id and ts and sig and not _revoked_in_book(deps, key_id):
            return await credentials.structure_for_signature(
                session, deps.vault, key_id=key_id, timestamp=ts, signature=sig, body=body,
                now=datetime.now(timezone.utc), window_s=deps.settings.signature_window_s)
    return None


def _revoked_in_book(deps: IntakeDeps, key_id: str) -> bool:
    entry = deps.credentials.entry(key_id)
    return entry is not None and entry.revoked is not None


def _reader_key(request: Request, deps: IntakeDeps) -> str | None:
    """The role of a valid bearer key of the book that may not send events (the coordinator, an auditor): it is
    known, so the answer is 403 (it may never send events), not 401 (authenticate again)."""
    auth = request.headers.get("authorization", "")
    principal = deps.credentials.check(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
    return principal.role if principal is not None and principal.role != "partner" else None


@router.post("/v1/events", status_code=202, response_model=IngressAnswer, responses=_RESPONSES,
             openapi_extra={"requestBody": _REQUEST_BODY}, summary="Send one partner event or a batch")
async def post_events(request: Request, deps: IntakeDeps = Depends(intake_deps)) -> JSONResponse:
    started = time.perf_counter()
    response = await _handle(request, deps)
    deps.metrics.request_seconds.labels(str(response.status_code)).observe(time.perf_counter() - started)
    return response


# How many times a request's batch is run again when it lost a write race (see is_write_race).
_RACE_ATTEMPTS = 4


def _admissions(request: Request, deps: IntakeDeps) -> Admissions:
    """The process's one group of admissions (made at the first request, on the app's state)."""
    state = request.app.state
    if getattr(state, "intake_admissions", None) is None:
        state.intake_admissions = Admissions(state.ctx, deps)
    return state.intake_admissions


def _busy(deps: IntakeDeps, detail: str) -> JSONResponse:
    return _error(503, "busy", detail, {"Retry-After": str(deps.settings.busy_retry_after_s)})


async def _handle(request: Request, deps: IntakeDeps) -> JSONResponse:  # noqa: C901 - one linear pipeline
    ctx: ServiceContext = request.app.state.ctx
    settings = deps.settings

    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        return _error(415, "unsupported_media_type", f"send the events as {MEDIA_TYPES[0]}")
    body = await _read_body(request, settings.max_body_bytes)
    if body is None:
        return _error(413, "too_large", f"request body above {settings.max_body_bytes} bytes")
    structure = await _authenticate(request, ctx, deps, body)
    if structure is None:
        role = _reader_key(request, deps)
        if role is not None:
            return _error(403, "not_a_partner_key", f"a {role} key reads Ariane; only a structure's keys (partner "
                          "or counsellor) send events")
        return _error(401, "unauthenticated", "send Authorization: Bearer <api key>, or a signed request",
                      {"WWW-Authenticate": "Bearer"})
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "malformed_json", "the body is not valid JSON")
    items = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else None
    if items is None or not items:
        return _error(400, "malformed_request", "send one event (a JSON object) or a non-empty array of events")
    if len(items) > settings.max_batch_events:
        return _error(413, "batch_too_large", f"at most {settings.max_batch_events} events per request")
    foreign = [i for i, item in enumerate(items) if not sent_by(item, structure)]
    if foreign:
        return _error(403, "forbidden_source",
                      f"events {foreign[:20]} do not have source {structure!r}, the structure of this key")

    with deps.door.entered(len(items)) as inside:
        if not inside:
            log.info("intake_busy", events=len(items), in_flight=deps.door.in_flight, limit=deps.door.limit)
            return _busy(deps, f"more than {deps.door.limit} events are being handled; nothing was written, send "
                         "the same request again after Retry-After seconds")
        return await _admit_and_confirm(request, deps, items)


async def _admit_and_confirm(request: Request, deps: IntakeDeps, items: list[Any]) -> JSONResponse:
    ctx: ServiceContext = request.app.state.ctx
    settings = deps.settings
    for attempt in range(1, _RACE_ATTEMPTS + 1):
        try:
            admitted = await _admissions(request, deps).admit(items)
            break
        except Exception as exc:
            # The same person or event written at this moment by the Kafka path or another instance: the batch,
            # run again from the start, sees the winner's rows (a duplicate, or the person now known).
            if is_write_race(exc) and attempt < _RACE_ATTEMPTS:
                log.info("intake_write_race_retried", attempt=attempt, error=type(exc).__name__)
                continue
            if is_transient(exc):  # the store's lock not had in time, a lost connection: nothing was written
                log.warning("intake_store_busy", error=type(exc).__name__)
                return _busy(deps, "the store is busy; nothing was written, send the same request again after "
                             "Retry-After seconds")
            raise
    answers = [EventAnswer(index=index, id=v.id, status=v.status, person_id=v.person_id, reason=v.reason,
                           detail=v.detail, errors=[FieldProblem(loc=e.loc, msg=e.msg, type=e.type)
                                                    for e in checks.answerable(v.errors)])
               for index, v in enumerate(admitted.verdicts)]
    tally = {s: sum(1 for a in answers if a.status == s) for s in ("accepted", "duplicate", "conflict", "rejected")}
    if admitted.outbox_ids and not await ctx.relay.wait_published(admitted.outbox_ids, settings.publish_timeout_s):
        return _error(503, "broker_unavailable",
                      "the events are stored but Kafka has not confirmed them yet; retry the same request later",
                      {"Retry-After": str(settings.retry_after_s)})
    answer = IngressAnswer(results=answers, **tally)
    status = 202 if tally["accepted"] + tally["duplicate"] else 409 if tally["conflict"] else 422
    return JSONResponse(answer.model_dump(mode="json"), status_code=status)
