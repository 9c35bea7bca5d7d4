"""Caseload transfers: a structure, or one of its counsellors, hands people over to another from a date.

One event per person moved, keyed by that person like every other event, so each person's facts stay in
order on their partition; a transfer of a whole caseload is many events that share one `transfer_id`.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import CounsellorRef, Identifier, ShortText, StructureId, TransferReason


class CaseloadTransferredData(Payload):
    """From `effective_on`, the person is held by `to_structure` (and `to_counsellor`) wherever they were held
    by `from_structure` (and, when given, only by `from_counsellor` within it)."""

    transfer_id: Identifier = Field(description="Id of the transfer; every person moved by it shares it.",
                                    examples=["tr-ml-2026-03-c0042"])
    from_structure: StructureId = Field(description="The structure handing over.", examples=["mission_locale_angevine"])
    from_counsellor: CounsellorRef | None = Field(default=None, description="Only this counsellor's holds move "
                                                  "(none: every hold of the structure).", examples=["ml-c-0042"])
    to_structure: StructureId = Field(description="The structure taking over (may be the same one, for a "
                                      "handover between two of its counsellors).", examples=["mission_locale_angevine"])
    to_counsellor: CounsellorRef | None = Field(default=None, description="The counsellor taking over, if named.",
                                                examples=["ml-c-0107"])
    effective_on: date = Field(description="The day the new holder takes over.", examples=["2026-03-02"])
    reason: TransferReason = Field(description="Why the caseload changes hands.", examples=["counsellor_left"])
    note: ShortText | None = Field(default=None, description="A few words more; never an identity.",
                                   examples=["départ de la conseillère, portefeuille repris par l'équipe"])

    @model_validator(mode="after")
    def _moves_something(self) -> CaseloadTransferredData:
        if (self.from_structure, self.from_counsellor) == (self.to_structure, self.to_counsellor):
            raise ValueError("a transfer must change the structure or the counsellor")
        return self


class CaseloadTransferred(Envelope):
    """fr.ariane.caseload.transferred: a person changes hands (sent by the structure handing over)."""

    short_type: ClassVar[str] = "caseload.transferred"
    type: Literal["fr.ariane.caseload.transferred"] = type_field("caseload.transferred")
    dataschema: str = schema_field("caseload.transferred")
    data: CaseloadTransferredData
