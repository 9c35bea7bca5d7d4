"""truth.json's shape: one person's entry and the whole document, whichever way the year's facts were found
(the story as recorded, simulator/recorded.py, or the replay through the rules, simulator/truth.py), so that the
two can be compared key by key and neither can drift from the other's shape."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from contracts.territory import Territory
from simulator.counts import event_counts
from simulator.script import PersonScript


def person_entry(script: PersonScript, start: date, horizon: int, final: dict[str, Any]) -> dict[str, Any]:
    """Who the person is in the story, and `final`: how their year ends (state, holders, lost, closed)."""
    person = script.person
    entry = {
        "person": person.key, "partner_ref": script.partner_ref, "nir": person.identity.nir,
        "referent": script.referent, "route": script.route, "plot": script.plot,
        "qpv_resident": person.qpv_resident, "rqth": person.rqth, "rsa": person.rsa,
        "single_parent": person.single_parent, "birth_year": person.birth_year,
        "barriers": [str(b) for b in person.barriers],
        "registered": any(e.type.endswith("person.registered") for _d, e in script.events),
        "final": final,
        "orientations": [{"referral_id": o.referral_id, "rule": o.rule, "to": o.to_structure,
                          "issued_on": (start + timedelta(days=o.issued_day)).isoformat(), "answer": o.answer}
                         for o in script.orientations if o.issued_day < horizon],
    }
    if script.told.reviews:  # a second file with a close name (duplicates.py): only then, other truths unchanged
        entry["identity_reviews"] = [
            {"partner_ref": r.partner_ref, "registered_by": r.by, "registered_on": _iso(start, r.registered),
             "decided_on": _iso(start, r.decided), "decision": r.decision, "other_person": r.other}
            for r in script.told.reviews]
    return entry


def _iso(start: date, day: int) -> str:
    return (start + timedelta(days=day)).isoformat()


def truth_document(scripts: list[PersonScript], territory: Territory, start: date, horizon: int, *,
                   people: list[dict[str, Any]], lost_rows: list[dict[str, Any]],
                   outcomes: Mapping[str, Counter[str]], at_risk_flags: Counter[str],
                   final_states: Counter[str], late: Counter[str],
                   reviews: Counter[str] | None = None) -> dict[str, Any]:
    """The document: the report's figures, every lost row (sorted by detection day), every person."""
    lost_rows.sort(key=lambda row: (row["detected_on"], row["partner_ref"]))
    report: dict[str, Any] = {"people_registered": sum(1 for p in people if p["registered"]),
                              **event_counts(scripts)}
    report |= {
        "referral_outcomes": {k: dict(sorted(v.items())) for k, v in sorted(outcomes.items())},
        "lost_detections": len(lost_rows),
        "lost_people": len({r["person"] for r in lost_rows}),
        "lost_by_reason": dict(sorted(Counter(r["reason"] for r in lost_rows).items())),
        "lost_by_structure_to_act": dict(sorted(Counter(r["structure_to_act"] for r in lost_rows).items())),
        "reengaged": sum(1 for r in lost_rows if r["reengaged_on"]),
        "lost_at_end": sum(1 for r in lost_rows if r["reengaged_on"] is None),
        "at_risk_flags_by_reason": dict(sorted(at_risk_flags.items())),
        "final_states": dict(sorted(final_states.items())),
    }
    if late["events_sent_late"]:  # only for a year with late partners: other years' truth stays as it was
        report["late"] = dict(sorted(late.items()))
    if reviews:  # only for a year with near-duplicate identities (duplicates.py)
        report["identity_reviews"] = {k: reviews[k] for k in ("opened", "same_person", "different_people")}
    return {
        "start": start.isoformat(),
        "end": (start + timedelta(days=horizon - 1)).isoformat(),
        "days": horizon,
        "thresholds": territory.followup.model_dump(mode="json"),
        "referral_sla": territory.referral_sla.model_dump(mode="json"),
        "report": report,
        "lost": lost_rows,
        "people": people,
    }
