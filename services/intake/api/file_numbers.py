"""POST /v1/file-numbers: the structures' own file numbers for the people a page shows, and who a number names.

Intake publishes no file number (see the README, "The file number on Kafka after an erasure"): the worklist and
timeline pages ask here, with their user's own key, for the numbers of the people on the page, and for the
person a number typed in a search names. A structure's keys read their own structure's numbers only, the
coordinator any structure's, an auditor none (`domain.file_numbers`). An erased person has no number left (the
erasure deleted them). Bounded: at most `MAX_ASKED` ids and numbers per request. POST, because a page of ids
does not fit in a URL; it reads and writes nothing, and nothing of it is logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from services.intake.api.caller import caller_with, intake_deps, problems
from services.intake.domain import file_numbers, identity
from services.intake.domain.disclosure import Caller
from services.runtime.service import ServiceContext

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["file numbers"])

_reader = caller_with("partner", "counsellor", "coordinator",
                      refusal="a {role} key reads no file number: they are shown on worklists")


class FileNumbersAsked(BaseModel):
    structure_id: str | None = Field(default=None, min_length=2, max_length=64,
                                     description="Whose numbers: a structure's keys read their own (the default); "
                                                 "the coordinator names one, or none for every structure.")
    person_ids: list[str] = Field(default_factory=list, max_length=file_numbers.MAX_ASKED,
                                  description="The people on the page.")
    file_numbers: list[str] = Field(default_factory=list, max_length=file_numbers.MAX_ASKED,
                                    description="Numbers typed in a search: who they name.")


class FileNumber(BaseModel):
    person_id: str
    structure_id: str
    file_number: str


class FileNumbers(BaseModel):
    items: list[FileNumber] = Field(description="One per (person, structure, number), by person then structure.")


@router.post("/v1/file-numbers", response_model=FileNumbers, summary="The structures' file numbers of some people",
             responses=problems(400, 401, 403))
async def file_numbers_of(body: FileNumbersAsked, request: Request, caller: Caller = Depends(_reader),
                          deps: IntakeDeps = Depends(intake_deps)) -> FileNumbers:
    try:
        structure = file_numbers.structure_read(caller, body.structure_id)
    except file_numbers.NotAllowed as refused:
        raise HTTPException(403, str(refused)) from None
    # A number typed as "<structure id>:<number>" is the structure's number, as on the events' subject.
    numbers = [identity.partner_ref_of(n, structure) if structure else n for n in body.file_numbers]
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.read_session_factory() as session:
        rows = await deps.resolver.file_numbers(session, structure, body.person_ids, numbers)
    return FileNumbers(items=[FileNumber(person_id=r.person_id, structure_id=r.structure_id,
                                         file_number=r.partner_ref) for r in rows])
