"""The transfers table on a story counted by hand.

In March the Mission locale's counsellor ml-c-42 leaves: her three people go to ml-c-107 (one transfer, sent
twice by a nervous integrator). In April the Mission locale hands one of them to the PLIE. In May the SIAE
hands two people to the PLIE, in two transfers, for specialised support.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from contracts.caseload import CaseloadTransferred, CaseloadTransferredData
from services.reporting.domain.calendar import Period
from services.reporting.domain.projection import fold
from services.reporting.domain.report import build_report

PARIS = ZoneInfo("Europe/Paris")
ML, PLIE, SIAE = "mission_locale_angevine", "plie_angers", "siae_regie_quartiers"


def moved(person: str, tid: str, on: date, src: str, dst: str, reason: str, src_c=None, dst_c=None, n: int = 0):
    return CaseloadTransferred(id=f"{tid}:{person}:{n}", source=src, subject=person,
                               time=datetime.combine(on, time(9), tzinfo=PARIS),
                               data=CaseloadTransferredData(transfer_id=tid, from_structure=src, from_counsellor=src_c,
                                                            to_structure=dst, to_counsellor=dst_c, effective_on=on,
                                                            reason=reason))


def story() -> list:
    march, april, may = date(2026, 3, 2), date(2026, 4, 1), date(2026, 5, 4)
    return [
        *(moved(p, "tr-c42", march, ML, ML, "counsellor_left", "ml-c-42", "ml-c-107") for p in ("a", "b", "c")),
        moved("a", "tr-c42", march, ML, ML, "counsellor_left", "ml-c-42", "ml-c-107", n=1),  # sent again
        moved("b", "tr-b", april, ML, PLIE, "specialised_support"),
        moved("d", "tr-d", may, SIAE, PLIE, "specialised_support"),
        moved("e", "tr-e", may, SIAE, PLIE, "specialised_support"),
    ]


def test_transfers_are_counted_by_people_and_by_transfer():
    rows = build_report(fold(story()))["transfers"]
    assert rows == [
        {"from_structure": ML, "to_structure": ML, "reason": "counsellor_left", "transfers": 1, "people": 3},
        {"from_structure": ML, "to_structure": PLIE, "reason": "specialised_support", "transfers": 1, "people": 1},
        {"from_structure": SIAE, "to_structure": PLIE, "reason": "specialised_support", "transfers": 2, "people": 2},
    ]


def test_a_period_counts_the_transfers_that_take_effect_in_it():
    rows = build_report(fold(story()), Period(date(2026, 4, 1), date(2026, 4, 30)))["transfers"]
    assert [(r["from_structure"], r["to_structure"], r["people"]) for r in rows] == [(ML, PLIE, 1)]


def test_the_order_events_arrive_in_changes_nothing():
    assert build_report(fold(story())) == build_report(fold(list(reversed(story()))))
