"""Freins périphériques: barriers to employment identified and lifted by structures."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import BarrierKind, ChildcareSolution, Identifier, ImpactLevel, StructureId


class BarrierIdentifiedData(Payload):
    """A structure identified a frein périphérique (mobility, childcare, housing…) that keeps the person from
    employment, and how much it weighs."""

    barrier_id: Identifier = Field(description="Id of this barrier, chosen by the structure; the lift refers to it.",
                                   examples=["brr-ml49-00412-1"])
    kind: BarrierKind = Field(description="The kind of barrier.", examples=["mobilite"])
    impact: ImpactLevel = Field(description="How much it weighs on the return to employment.", examples=["high"])
    structure_id: StructureId = Field(description="The structure that identified it.",
                                      examples=["mission_locale_angevine"])


class BarrierLiftedData(Payload):
    """A barrier no longer stands in the way, with the dispositif that lifted it when there was one
    (e.g. Par'Emploi for childcare, CARBUR'PERA for mobility)."""

    barrier_id: Identifier = Field(description="Id of the barrier given when it was identified.",
                                   examples=["brr-ml49-00412-1"])
    kind: BarrierKind = Field(description="The kind of barrier (repeated so readers need no lookup).",
                              examples=["garde_enfant"])
    dispositif_id: Identifier | None = Field(default=None, description="The dispositif that lifted it, if any.",
                                             examples=["par_emploi"])
    structure_id: StructureId = Field(description="The structure that reports the lift.",
                                      examples=["aldev_cite_emploi"])
    childcare_solution: ChildcareSolution | None = Field(
        default=None, description="For a garde_enfant barrier: the childcare found (temporary, permanent, or with "
        "an assistante maternelle), as the Par'Emploi report counts it.", examples=["accueil_permanent"])

    @model_validator(mode="after")
    def _childcare_only(self) -> BarrierLiftedData:
        if self.childcare_solution is not None and self.kind != BarrierKind.GARDE_ENFANT:
            raise ValueError("childcare_solution is given only for a garde_enfant barrier")
        return self


class BarrierIdentified(Envelope):
    """fr.ariane.barrier.identified: a frein périphérique was identified."""

    short_type: ClassVar[str] = "barrier.identified"
    type: Literal["fr.ariane.barrier.identified"] = type_field("barrier.identified")
    dataschema: str = schema_field("barrier.identified")
    data: BarrierIdentifiedData


class BarrierLifted(Envelope):
    """fr.ariane.barrier.lifted: a frein périphérique was lifted."""

    short_type: ClassVar[str] = "barrier.lifted"
    type: Literal["fr.ariane.barrier.lifted"] = type_field("barrier.lifted")
    dataschema: str = schema_field("barrier.lifted")
    data: BarrierLiftedData
