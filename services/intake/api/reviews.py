"""The coordinator's identity reviews: GET /v1/identity-reviews and POST /v1/identity-reviews/{id}/decision.

Listing pending reviews shows the two identities side by side, since that is what deciding needs: every person
shown is a disclosure (basis `identity_review`), recorded and announced in the listing's transaction. Decided
reviews are listed without identities. A decision is taken once (409 after); "same_person" folds the newer id
into the older one through the merge intake already makes, and publishes it (`person.identities_merged`, rule
`manual`) after `identity.review_decided`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from contracts import topics
from contracts.envelope import utc
from contracts.identity import DisclosureBasis, MatchedField, ReviewDecision
from services.intake.api.caller import caller_with, intake_deps, problems, unprocessable
from services.intake.api.disclosing import disclose
from services.intake.api.identity import IdentityView
from services.intake.domain import pii, reviews
from services.intake.domain.disclosure import Caller
from services.intake.store import reviews as stored
from services.intake.store.tables import ReviewRow
from services.runtime.service import ServiceContext
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["identity reviews"])

_coordinator = caller_with("coordinator", refusal="a {role} key may not see nor decide identity reviews: they are "
                                                  "the territory coordinator's")


class ShownPerson(BaseModel):
    person_id: str
    identity: IdentityView | None = Field(description="Null when the vault no longer holds it (erased).")
    disclosure_id: str | None = None


class Review(BaseModel):
    review_id: str
    person_id: str = Field(description="The newer of the two ids.")
    other_person_id: str
    matched: list[MatchedField] = Field(description="The identity fields both records share (never the values).")
    missing: list[str] = Field(description="What would have settled it, missing on either record.")
    status: Literal["pending", "same_person", "different_people"]
    opened_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    shown: list[ShownPerson] = Field(default_factory=list, description="Pending reviews only: the two people "
                                     "side by side (each one shown is a disclosure).")


class ReviewList(BaseModel):
    items: list[Review]


class DecisionRequest(BaseModel):
    decision: ReviewDecision
    note: str | None = Field(default=None, min_length=1, max_length=500,
                             description="Why, in a few words. Published: never an identity.")


class DecisionAnswer(BaseModel):
    review_id: str
    decision: ReviewDecision
    decided_by: str
    decided_at: datetime
    kept_person_id: str | None = Field(default=None, description="same_person: the id that remains.")
    merged_person_id: str | None = Field(default=None, description="same_person: the id folded into it.")


def _review(row: ReviewRow, shown: list[ShownPerson]) -> Review:
    review = stored.as_opening(row)
    return Review(review_id=review.review_id, person_id=review.person_id, other_person_id=review.other_person_id,
                  matched=list(review.matched), missing=list(review.missing), status=row.status,
                  opened_at=utc(row.opened_at) if row.opened_at else None, decided_by=row.decided_by,
                  decided_at=utc(row.decided_at) if row.decided_at else None, note=row.note, shown=shown)


@router.get("/v1/identity-reviews", response_model=ReviewList, summary="Identity reviews (the coordinator)",
            responses=problems(401, 403))
async def list_reviews(request: Request,
                       status: Literal["pending", "same_person", "different_people"] = Query("pending"),
                       limit: int = Query(50, ge=1, le=200, description="At most this many reviews, oldest first."),
                       caller: Caller = Depends(_coordinator), deps: IntakeDeps = Depends(intake_deps)) -> ReviewList:
    ctx: ServiceContext = request.app.state.ctx
    shown_count = 0
    async with ctx.session_factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name, topic_prefix=ctx.settings.topic_prefix)
        items: list[Review] = []
        disclosed: dict[str, str] = {}  # one disclosure per person shown in this answer
        for row in await stored.listing(session, [status], limit):
            shown: list[ShownPerson] = []
            if row.status == reviews.PENDING:
                review = stored.as_opening(row)
                for pid in (review.person_id, review.other_person_id):
                    person = await deps.resolver.canonical(session, pid) or pid
                    facts = await deps.resolver.identity_of(session, person)
                    if facts is not None and person not in disclosed:
                        event = await disclose(uow, deps, caller, person, DisclosureBasis.IDENTITY_REVIEW,
                                               f"identity review {review.review_id}")
                        disclosed[person] = event.data.disclosure_id
                    shown.append(ShownPerson(person_id=person, identity=IdentityView.of(facts) if facts else None,
                                             disclosure_id=disclosed.get(person)))
            items.append(_review(row, shown))
        shown_count = len(disclosed)
    if shown_count:
        deps.metrics.disclosures.labels(DisclosureBasis.IDENTITY_REVIEW.value).inc(shown_count)
        ctx.relay.notify()
    return ReviewList(items=items)


@router.post("/v1/identity-reviews/{review_id}/decision", response_model=DecisionAnswer,
             summary="Decide an identity review (the coordinator)", responses=problems(400, 401, 403, 404, 409))
async def decide(request: Request, body: DecisionRequest, review_id: str = Path(min_length=1, max_length=128),
                 caller: Caller = Depends(_coordinator), deps: IntakeDeps = Depends(intake_deps)) -> DecisionAnswer:
    ctx: ServiceContext = request.app.state.ctx
    now = deps.clock()
    async with ctx.session_factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name, topic_prefix=ctx.settings.topic_prefix)
        row = await stored.by_id(session, review_id)
        if row is None:
            raise HTTPException(404, f"no identity review {review_id}")
        review = stored.as_opening(row)
        pair = (await deps.resolver.canonical(session, review.person_id) or review.person_id,
                await deps.resolver.canonical(session, review.other_person_id) or review.other_person_id)
        if body.note:
            names = set()
            for pid in pair:
                facts = await deps.resolver.identity_of(session, pid)
                names |= pii.name_tokens(facts.last_name, facts.first_names) if facts else set()
            found = pii.kinds_in(body.note, names)
            if found:
                raise unprocessable("note", "the note is published with the decision and must hold no personal "
                                            f"data (found: {', '.join(found)})")
        try:
            decided = reviews.decide(row.status, review, body.decision, caller.structure, body.note, pair,
                                     await deps.resolver.nirs_differ(session, *pair), now)
        except reviews.AlreadyDecided:
            raise HTTPException(409, _already(row)) from None
        except reviews.NeverOnePerson as refused:
            raise HTTPException(409, str(refused)) from None
        if not await stored.mark_decided(session, review.review_id, body.decision.value, caller.structure, now,
                                         body.note):
            await session.refresh(row)  # another decision committed in between: say which
            raise HTTPException(409, _already(row))
        if decided.merged is not None and decided.kept is not None:
            await deps.resolver.merge(session, decided.merged, decided.kept)
        for event in decided.events:
            await uow.emit(event, topics.INTAKE)
    deps.metrics.reviews_decided.labels(body.decision.value).inc()
    if decided.merged is not None:
        deps.metrics.merges.labels("manual").inc()
    ctx.relay.notify()
    return DecisionAnswer(review_id=review.review_id, decision=body.decision, decided_by=caller.structure,
                          decided_at=now, kept_person_id=decided.kept, merged_person_id=decided.merged)


def _already(row: ReviewRow) -> str:
    when = f" at {utc(row.decided_at).isoformat()}" if row.decided_at else ""
    by = f" by {row.decided_by}" if row.decided_by else ""
    return f"review {row.review_id} was already decided: {row.status}{by}{when}"
