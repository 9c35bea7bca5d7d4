"""The year's facts counted as the script wrote them (registrations, exits, barriers, jobs...): the report
figures that are plain counts of what partners record, whoever holds the person."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from simulator.script import PersonScript

COUNTED = ("registrations_by_structure", "dispositif_entries", "exits_by_class", "barriers_identified",
           "barriers_lifted", "barriers_lifted_by_dispositif", "jobs_started_by_contract", "jobs_ended_by_reason",
           "trainings", "checkins_done", "contacts", "cases_closed")


def event_counts(scripts: list[PersonScript]) -> dict[str, Any]:
    """Every count of truth.json's report that is a count of events, and exits by dispositif and class."""
    c: dict[str, Counter[str]] = defaultdict(Counter)
    exits: dict[str, Counter[str]] = defaultdict(Counter)
    for script in scripts:
        for _day, event in script.events:
            k, d = event.type.removeprefix("fr.ariane."), event.data
            if k == "person.registered":
                c["registrations_by_structure"][d.structure_id] += 1
            elif k == "dispositif.entered":
                c["dispositif_entries"][d.dispositif_id] += 1
            elif k == "dispositif.exited":
                exits[d.dispositif_id][str(d.exit_class)] += 1
                c["exits_by_class"][str(d.exit_class)] += 1
            elif k == "barrier.identified":
                c["barriers_identified"][str(d.kind)] += 1
            elif k == "barrier.lifted":
                c["barriers_lifted"][str(d.kind)] += 1
                c["barriers_lifted_by_dispositif"][d.dispositif_id or "none"] += 1
            elif k == "job.started":
                c["jobs_started_by_contract"][str(d.contract_type)] += 1
            elif k == "job.ended":
                c["jobs_ended_by_reason"][str(d.reason)] += 1
            elif k == "training.started":
                c["trainings"]["started"] += 1
            elif k == "training.ended":
                c["trainings"]["completed" if d.completed else "dropped"] += 1
            elif k == "followup.checkin_done":
                c["checkins_done"]["reached" if d.reached else "not_reached"] += 1
            elif k == "contact.recorded":
                c["contacts"]["reached" if d.reached else "not_reached"] += 1
            elif k == "case.closed":
                c["cases_closed"][str(d.reason)] += 1
    out: dict[str, Any] = {name: dict(sorted(c[name].items())) for name in COUNTED}
    out["exits_by_dispositif"] = {d: dict(sorted(v.items())) for d, v in sorted(exits.items())}
    return out
