"""What intake publishes for an accepted event: its canonical copy, and one merge event per person folded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts.envelope import Envelope
from contracts.people import (PersonIdentitiesMerged, PersonIdentitiesMergedData, PersonProfileUpdatedData,
                              without_identity)
from services.intake.domain.identity import MatchRule, merge_rule_name

SERVICE_SOURCE = "ariane/intake"


def to_publish(event: Envelope, person_id: str, merged: Sequence[tuple[str, MatchRule]],
               recorded: datetime) -> list[Envelope]:
    """The partner's event about `person_id` without its identity nor its file number (if anything is left of
    it), then the
    merges it proved, each with an id derived from the cause so a replay derives the same ids."""
    emitted: list[Envelope] = [
        PersonIdentitiesMerged(
            id=f"{event.id}:merged:{merged_id}", source=SERVICE_SOURCE, subject=person_id, time=event.time,
            correlationid=event.correlationid or event.id, causationid=event.id, recordedtime=recorded,
            data=PersonIdentitiesMergedData(kept_person_id=person_id, merged_person_id=merged_id,
                                            rule=merge_rule_name(rule)))
        for merged_id, rule in merged]
    canonical = without_file_number(without_identity(event))
    if canonical is not None:
        emitted.insert(0, canonical.model_copy(update={"subject": person_id, "recordedtime": recorded}))
    return emitted


def without_file_number(event: Envelope | None) -> Envelope | None:
    """The event without the structure's file number (`data.partner_ref`, optional in v1): a topic is kept
    forever and cannot be rewritten, so a number published there would outlive the person's erasure. Intake
    keeps it in its own table (deleted by the erasure) and answers it to the structure's pages."""
    if event is None or getattr(event.data, "partner_ref", None) is None:
        return event
    data = event.data.model_copy(update={"partner_ref": None})
    if isinstance(data, PersonProfileUpdatedData) and not data.changed_fields():
        return None  # it only gave the number: intake links it, and there is nothing left to publish
    return event.model_copy(update={"data": data})
