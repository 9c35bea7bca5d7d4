"""The parcours: dispositifs entered and exited, jobs and trainings started and ended."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import (ContractType, CounsellorRef, ExitClass, Identifier, JobEndReason, NextStepKind,
                                 StructureId)


class NextStep(Payload):
    """Where the person goes on to after an exit: a job, a training, another dispositif or structure."""

    kind: NextStepKind = Field(description="What comes next.", examples=["dispositif"])
    target_id: Identifier | None = Field(
        default=None, description="The job, training, dispositif or structure id, when known.",
        examples=["plie_angers"],
    )


class DispositifEnteredData(Payload):
    """The person entered a dispositif (Cité de l'emploi, Par'Emploi, CARBUR'PERA, IAE, PLIE, formation…)."""

    dispositif_id: Identifier = Field(description="The dispositif entered.", examples=["aldev_cite_emploi"])
    structure_id: StructureId = Field(description="The structure running it for this person.",
                                      examples=["aldev_cite_emploi"])
    counsellor_ref: CounsellorRef | None = Field(
        default=None, description="The structure's pseudonymous reference for the counsellor who takes the "
        "person on (never a name); lets a counsellor's caseload be handed over.", examples=["ml-c-0042"])


class DispositifExitedData(Payload):
    """The person left a dispositif, with the exit class of IAE reporting and, if known, what comes next.
    An exit with no next step is how people get lost: followup watches those."""

    dispositif_id: Identifier = Field(description="The dispositif left.", examples=["aldev_cite_emploi"])
    structure_id: StructureId = Field(description="The structure that ran it.", examples=["aldev_cite_emploi"])
    exit_class: ExitClass = Field(description="Exit class: emploi_durable, emploi_transition, sortie_positive or "
                                  "autre.", examples=["emploi_durable"])
    next_step: NextStep | None = Field(default=None, description="What the person goes on to, if known.",
                                       examples=[{"kind": "job", "target_id": "job-ml49-00412-1"}])


class JobStartedData(Payload):
    """The person started a job."""

    job_id: Identifier = Field(description="Id of this job, chosen by the reporting structure; job.ended refers "
                               "to it.", examples=["job-ml49-00412-1"])
    employer: str = Field(min_length=1, max_length=200,
                          description="The employer: its structure id when it is in the territory file, otherwise "
                          "its name.", examples=["Boulangerie du Ralliement"])
    contract_type: ContractType = Field(description="The contract.", examples=["cdd"])
    hours_per_week: float = Field(gt=0, le=60, description="Contractual hours per week.", examples=[35])
    expected_end: date | None = Field(default=None, description="Planned end (CDD, interim, contrat aidé); absent "
                                      "for a CDI or a business creation.", examples=["2025-09-30"])
    structure_id: StructureId | None = Field(default=None, description="The structure that supported the "
                                             "placement, if any.", examples=["mission_emploi_trelaze"])


class JobEndedData(Payload):
    """The person's job ended; if nobody holds them afterwards they are at risk of being lost."""

    job_id: Identifier = Field(description="Id of the job given at its start.", examples=["job-ml49-00412-1"])
    reason: JobEndReason = Field(description="Why it ended.", examples=["end_of_contract"])


class TrainingStartedData(Payload):
    """The person started a training (formation)."""

    training_id: Identifier = Field(description="Id of this training; training.ended refers to it.",
                                    examples=["trn-2025-0193"])
    qualifying: bool = Field(description="Leads to a recognised qualification (counts as sortie positive).",
                             examples=[True])
    structure_id: StructureId = Field(description="The structure that prescribed or supports it.",
                                      examples=["france_travail_angers_centre"])
    expected_end: date = Field(description="Planned end of the training.", examples=["2025-06-27"])


class TrainingEndedData(Payload):
    """The person's training ended, completed or not."""

    training_id: Identifier = Field(description="Id of the training given at its start.", examples=["trn-2025-0193"])
    qualifying: bool = Field(description="Leads to a recognised qualification.", examples=[True])
    completed: bool = Field(description="True if the person finished it (false: dropped out).", examples=[True])


class DispositifEntered(Envelope):
    """fr.ariane.dispositif.entered: the person entered a dispositif."""

    short_type: ClassVar[str] = "dispositif.entered"
    type: Literal["fr.ariane.dispositif.entered"] = type_field("dispositif.entered")
    dataschema: str = schema_field("dispositif.entered")
    data: DispositifEnteredData


class DispositifExited(Envelope):
    """fr.ariane.dispositif.exited: the person left a dispositif (sortie)."""

    short_type: ClassVar[str] = "dispositif.exited"
    type: Literal["fr.ariane.dispositif.exited"] = type_field("dispositif.exited")
    dataschema: str = schema_field("dispositif.exited")
    data: DispositifExitedData


class JobStarted(Envelope):
    """fr.ariane.job.started: the person started a job."""

    short_type: ClassVar[str] = "job.started"
    type: Literal["fr.ariane.job.started"] = type_field("job.started")
    dataschema: str = schema_field("job.started")
    data: JobStartedData


class JobEnded(Envelope):
    """fr.ariane.job.ended: the person's job ended."""

    short_type: ClassVar[str] = "job.ended"
    type: Literal["fr.ariane.job.ended"] = type_field("job.ended")
    dataschema: str = schema_field("job.ended")
    data: JobEndedData


class TrainingStarted(Envelope):
    """fr.ariane.training.started: the person started a training."""

    short_type: ClassVar[str] = "training.started"
    type: Literal["fr.ariane.training.started"] = type_field("training.started")
    dataschema: str = schema_field("training.started")
    data: TrainingStartedData


class TrainingEnded(Envelope):
    """fr.ariane.training.ended: the person's training ended."""

    short_type: ClassVar[str] = "training.ended"
    type: Literal["fr.ariane.training.ended"] = type_field("training.ended")
    dataschema: str = schema_field("training.ended")
    data: TrainingEndedData
