"""A caseload transfer as the partner events intake takes: one fr.ariane.caseload.transferred per person.

Pure, and shared by the page's transfer form and `ariane transfer`, so both send the very same events. Each
event's id derives from the transfer id and the person: sending a transfer again (a double click, a command run
again after a timeout) sends the same ids, which intake answers as duplicates, so nobody is moved twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime

from contracts.caseload import CaseloadTransferred, CaseloadTransferredData
from contracts.vocabulary import TransferReason

BATCH = 200  # events per request to intake: well under its limit, small enough to retry cheaply


def new_transfer_id(prefix: str = "tr") -> str:
    """A fresh transfer id; drawn once per form or command run, then reused if the same transfer is resent."""
    return f"{prefix}-{secrets.token_hex(6)}"


def transfer_event(tid: str, person: str, structure: str, from_counsellor: str | None, to: str,
                   to_counsellor: str | None, on: date, reason: TransferReason, note: str | None,
                   sent_at: datetime) -> CaseloadTransferred:
    """One person handed over by `structure` (only `from_counsellor`'s hold when given) from day `on`."""
    return CaseloadTransferred(
        id=f"{tid}:{person}", source=structure, subject=person, time=sent_at,
        data=CaseloadTransferredData(transfer_id=tid, from_structure=structure, from_counsellor=from_counsellor,
                                     to_structure=to, to_counsellor=to_counsellor, effective_on=on, reason=reason,
                                     note=note))


def batches(events: list[CaseloadTransferred], size: int = BATCH) -> Iterable[bytes]:
    """The events as CloudEvents batch bodies (application/cloudevents-batch+json), `size` at a time."""
    for start in range(0, len(events), size):
        yield ("[" + ",".join(e.to_json_bytes().decode() for e in events[start:start + size]) + "]").encode()
