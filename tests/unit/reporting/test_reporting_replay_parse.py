"""What the auditor's replay does with a malformed record, by whether its type teaches the projection anything.

Live, reporting dead-letters any record that breaks its contract, and ignores a valid contact or check-in: no
figure ever comes from either. The replay reads a contact or check-in for its type alone (nothing of it can
reach a figure) and validates every other type as the live service does, so the figures are the same; only the
counts say which records were read how."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

from contracts.barriers import BarrierIdentified
from contracts.people import ContactRecorded
from local.sample import sample_events
from services.reporting.domain.digest import digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import compute
from services.reporting.store.replay import default_replay_url, replay
from services.runtime.records import Record

STORY = [event for _topic, event in sample_events(people=10, seed=5)]
CLEAN = digest(compute(fold(STORY)))  # the live service's figures: it dead-letters both broken records below
SOMEONE = next(e for e in STORY if isinstance(e, BarrierIdentified))

# A counsellor's call to someone of the story, as a structure's system sent it: valid, it teaches the report nothing.
CONTACT = ContactRecorded(id="contact-1", source="mission_locale_angevine", subject=SOMEONE.subject,
                          time=SOMEONE.time, data={"structure_id": "mission_locale_angevine", "channel": "phone",
                                                   "reached": True})
# The same call with a channel no contract knows and a field no contract has: live, a dead letter.
BROKEN_CONTACT = json.loads(CONTACT.to_json_bytes())
BROKEN_CONTACT["data"].update(channel="carrier_pigeon", mood="cheerful")
# A second barrier for that person whose impact no contract knows: valid, it would add a barrier to the figures.
BROKEN_BARRIER = json.loads(SOMEONE.to_json_bytes())
BROKEN_BARRIER["id"] = "barrier-again"
BROKEN_BARRIER["data"].update(barrier_id="brr-new", impact="enormous")


def _records(*extra: bytes) -> list[Record]:
    values = [e.to_json_bytes() for e in STORY] + [CONTACT.to_json_bytes(), *extra]
    return [Record("ariane.intake.v1", 0, n, b"k", value) for n, value in enumerate(values)]


async def _replay(tmp_path: Path, records: list[Record], as_of: datetime | None = None):  # noqa: ANN202
    async def log() -> AsyncIterator[list[Record]]:
        yield records

    return await replay(log(), database_url=default_replay_url(tmp_path), as_of=as_of)


async def test_a_malformed_barrier_is_skipped_and_a_malformed_contact_is_read_for_its_type(tmp_path: Path) -> None:
    records = _records(json.dumps(BROKEN_BARRIER).encode(), json.dumps(BROKEN_CONTACT).encode())
    result = await _replay(tmp_path, records)
    assert result.digest == CLEAN  # neither record changed a figure
    assert result.skipped_unparseable == 1  # the barrier: its contract is checked, as live
    assert result.folded == len(STORY) + 2  # the story, the valid contact, and the broken contact read as a contact


async def test_the_same_barrier_with_a_known_impact_does_count(tmp_path: Path) -> None:
    # The check that the broken barrier above would have changed the figures had it been folded.
    fixed = dict(BROKEN_BARRIER, data={**BROKEN_BARRIER["data"], "impact": "high"})
    result = await _replay(tmp_path, _records(json.dumps(fixed).encode()))
    assert result.digest != CLEAN
    assert result.skipped_unparseable == 0


async def test_bytes_that_name_no_contract_type_are_unparseable_whatever_they_hold(tmp_path: Path) -> None:
    no_type = {k: v for k, v in BROKEN_CONTACT.items() if k != "type"}
    records = _records(b"not json", b"[1, 2]", json.dumps(no_type).encode(), b'{"type": "fr.ariane.nonsense"}',
                       json.dumps(dict(BROKEN_CONTACT, type=7)).encode())
    result = await _replay(tmp_path, records)
    assert result.digest == CLEAN
    assert result.skipped_unparseable == 5
    assert result.folded == len(STORY) + 1


async def test_as_of_a_date_a_contact_needs_a_valid_time_to_be_placed(tmp_path: Path) -> None:
    far = datetime(2100, 1, 1, tzinfo=timezone.utc)
    undated = {k: v for k, v in BROKEN_CONTACT.items() if k != "time"}
    late = dict(BROKEN_CONTACT, id="contact-late", recordedtime="2101-01-01T00:00:00Z")
    records = _records(json.dumps(BROKEN_CONTACT).encode(), json.dumps(undated).encode(), json.dumps(late).encode())
    result = await _replay(tmp_path, records, as_of=far)
    assert result.digest == digest(compute(fold(STORY)))
    assert result.skipped_unparseable == 1  # the contact without a time
    assert result.skipped_after_cut == 1  # the one recorded after the cut
    assert result.folded == len(STORY) + 2
