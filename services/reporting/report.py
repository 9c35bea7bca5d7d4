"""The canonical report: outcome tables computed from the projection, and its digest.

Pure: a state and a period in, a dict of integers and strings out (shares are given in per mille, delays in
whole days, quantiles by nearest rank), so the canonical JSON is the same on every platform and its sha256
is a digest an auditor can compare with the live service's.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.reporting.projections import Doc, State

REPORT_VERSION = 1
EXIT_CLASSES = ("emploi_durable", "emploi_transition", "sortie_positive", "autre")
RETURN_CLASSES = frozenset({"emploi_durable", "emploi_transition", "sortie_positive"})
STATES = ("closed", "lost", "in_employment", "waiting_referral", "held")


@dataclass(frozen=True)
class Period:
    """Business days, both ends included; None leaves that side open."""

    start: date | None = None
    end: date | None = None

    def holds(self, day: str | None) -> bool:
        if not day:
            return False
        return (self.start is None or day >= self.start.isoformat()) and (
            self.end is None or day <= self.end.isoformat())


def canonical_json(report: dict[str, Any]) -> str:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(report: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(report).encode("utf-8")).hexdigest()


def nearest_rank(values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile (an element of the data, so always an integer)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def delay_stats(values: list[int]) -> dict[str, int | None]:
    return {"count": len(values), "d1": nearest_rank(values, 10), "median": nearest_rank(values, 50),
            "d9": nearest_rank(values, 90)}


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def _permille(part: int, whole: int) -> int:
    return (part * 1000 + whole // 2) // whole if whole else 0


def resolve(alias: dict[str, str], person: str) -> str:
    """Follow identity merges to the person_id that was kept (cycles stop where they loop)."""
    seen = {person}
    while person in alias and alias[person] not in seen:
        person = alias[person]
        seen.add(person)
    return person


@dataclass
class _Views:
    persons: dict[str, Doc]
    referrals: list[Doc]
    barriers: list[Doc]
    stays: list[Doc]
    jobs: list[Doc]
    trainings: list[Doc]
    today: str


def _views(state: State) -> _Views:
    from services.reporting.projections import join

    alias = {key.split(":", 1)[1]: doc["kept"][2] for key, doc in state.items() if doc.get("kind") == "alias"}
    persons: dict[str, Doc] = {}
    by_kind: dict[str, list[Doc]] = defaultdict(list)
    latest = ""
    for key in sorted(state):
        doc = state[key]
        kind = doc.get("kind")
        if kind == "person":
            pid = resolve(alias, key.split(":", 1)[1])
            merged = join(persons.get(pid), {k: v for k, v in doc.items() if k != "kind"})
            persons[pid] = {**merged, "kind": "person"}
        elif kind == "clock":
            latest = max(latest, doc["day"])
        elif kind in ("referral", "barrier", "stay", "job", "training"):
            by_kind[kind].append({**doc, "person": resolve(alias, doc["person"])})
    if not latest:  # no clock ticks: the latest business day any fact carries
        latest = max((day for doc in state.values() for day in _days_of(doc)), default="")
    return _Views(persons, by_kind["referral"], by_kind["barrier"], by_kind["stay"], by_kind["job"],
                  by_kind["training"], latest)


# Where each field keeps its business day: position in the list, or in each entry of a keyed map.
DAY_AT = {"reg": 2, "first_ref": 2, "closed": 2, "issued": 2, "ack": 2, "accepted": 2, "refused": 2, "appt": 2,
          "identified": 2, "lifted": 2, "job_started": 2, "job_ended": 2, "trn_started": 2, "trn_ended": 2}
DAY_IN_ENTRIES = {"entries": 1, "exits": 1, "lost": 1, "reeng": 1, "expired": 2}


def _days_of(doc: Doc):  # noqa: ANN202 - a generator of ISO days
    for field, value in doc.items():
        if field in DAY_AT:
            yield value[DAY_AT[field]]
        elif field in DAY_IN_ENTRIES:
            yield from (entry[DAY_IN_ENTRIES[field]] for entry in value.values())


def _attr(person: Doc, name: str) -> Any:
    entry = person.get("attr", {}).get(name)
    return entry[2] if entry else None


def person_state(person: Doc, open_job: bool, pending_referral: bool) -> tuple[str, str]:
    """Where a person stands now and which structure that concerns: the latest of closed, lost, re-engaged
    decides, then an open job, then a referral waiting for an answer, else held by the last holder."""
    last_lost = max(person.get("lost", {}).values(), default=None)
    last_reeng = max(person.get("reeng", {}).values(), default=None)
    closed = person.get("closed")
    holder = person.get("holder", [None, None, "unknown"])[2]
    marks = [(closed[0], "closed") if closed else None, (last_lost[0], "lost") if last_lost else None,
             (last_reeng[0], "reengaged") if last_reeng else None]
    marks = [m for m in marks if m]
    latest = max(marks)[1] if marks else None
    if latest == "closed":
        return "closed", holder
    if latest == "lost":
        return "lost", last_lost[3]
    if open_job:
        return "in_employment", holder
    if pending_referral:
        return "waiting_referral", holder
    return "held", holder


def _cohorts(person: Doc) -> list[tuple[str, str]]:
    reg = person.get("reg")
    out = [("all", "all")]
    if reg:
        out.append(("entry_month", reg[2][:7]))
        birth = _attr(person, "birth_year")
        if birth is not None:
            out.append(("under_26", "yes" if int(reg[2][:4]) - int(birth) < 26 else "no"))
    for name, label in (("qpv_resident", "qpv"), ("single_parent", "single_parent"), ("rqth", "rqth"),
                        ("rsa", "rsa")):
        value = _attr(person, name)
        if value is not None:
            out.append((label, "yes" if value else "no"))
    return out


def build_report(state: State, period: Period = Period(), territory: str = "") -> dict[str, Any]:
    return compute(state, period, territory)[0]


def compute(state: State, period: Period = Period(), territory: str = ""
            ) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The report, and the raw delays (in days) behind its delay quantiles, for the metrics' histograms."""
    v = _views(state)
    end = period.end.isoformat() if period.end else v.today
    open_jobs = {j["person"] for j in v.jobs if "job_started" in j and "job_ended" not in j}
    pending = {r["person"] for r in v.referrals
               if "issued" in r and not ({"accepted", "refused", "expired", "appt"} & r.keys())}

    by_state: dict[tuple[str, str], int] = defaultdict(int)
    for pid, person in v.persons.items():
        by_state[person_state(person, pid in open_jobs, pid in pending)] += 1

    flows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    delays: dict[str, list[int]] = {"registration_to_first_referral": [], "referral_to_acceptance": [],
                                    "acceptance_to_first_appointment": []}
    for r in v.referrals:
        issued = r.get("issued")
        if not issued or not period.holds(issued[2]):
            continue
        flow = flows[(issued[4], issued[5])]
        flow["issued"] += 1
        for outcome in ("accepted", "refused", "appt"):
            if outcome in r:
                flow[outcome] += 1
        if r.get("expired"):
            flow["expired"] += 1
        if "accepted" in r:
            delays["referral_to_acceptance"].append(_days(issued[2], r["accepted"][2]))
            if "appt" in r:
                delays["acceptance_to_first_appointment"].append(_days(r["accepted"][2], r["appt"][2]))
    for person in v.persons.values():
        reg, first = person.get("reg"), person.get("first_ref")
        if reg and first and period.holds(first[2]):
            delays["registration_to_first_referral"].append(max(0, _days(reg[2], first[2])))

    exits: dict[tuple[str, str, str], int] = defaultdict(int)
    exits_by_person: dict[str, list[str]] = defaultdict(list)
    followed_by_dispositif: dict[str, set[str]] = defaultdict(set)
    for stay in v.stays:
        if followed_in(stay, period, end):
            followed_by_dispositif[stay["dispositif"]].add(stay["person"])
        for e in stay.get("exits", {}).values():
            if period.holds(e[1]):
                exits[(stay["dispositif"], e[3], e[2])] += 1
                exits_by_person[stay["person"]].append(e[2])

    barriers: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lifted_by_person: dict[str, int] = defaultdict(int)
    lifted_by_dispositif: dict[str, int] = defaultdict(int)
    for b in v.barriers:
        ident, lifted = b.get("identified"), b.get("lifted")
        kind = (ident or lifted)[3]
        if ident and period.holds(ident[2]):
            barriers[(kind, "")]["identified"] += 1
        if lifted and period.holds(lifted[2]):
            barriers[(kind, lifted[4])]["lifted"] += 1
            lifted_by_person[b["person"]] += 1
            if lifted[4]:
                lifted_by_dispositif[lifted[4]] += 1

    lost = reengaged = 0
    for person in v.persons.values():
        lost += any(period.holds(x[1]) for x in person.get("lost", {}).values())
        reengaged += any(period.holds(x[1]) for x in person.get("reeng", {}).values())

    job_or_training = {j["person"] for j in v.jobs if "job_started" in j and period.holds(j["job_started"][2])}
    job_or_training |= {t["person"] for t in v.trainings
                        if "trn_started" in t and period.holds(t["trn_started"][2])}

    report = {
        "version": REPORT_VERSION,
        "territory": territory,
        "period": {"start": period.start.isoformat() if period.start else None, "end": end or None},
        "persons_by_state": [{"state": s, "structure": st, "persons": n}
                             for (s, st), n in sorted(by_state.items())],
        "flows": [{"from": a, "to": b, **{k: f.get(k, 0) for k in ("issued", "accepted", "refused", "expired",
                                                                    "appt")}}
                  for (a, b), f in sorted(flows.items())],
        "delays_days": {name: delay_stats(values) for name, values in sorted(delays.items())},
        "exits": [{"dispositif": d, "structure": s, "exit_class": c, "exits": n}
                  for (d, s, c), n in sorted(exits.items())],
        "barriers": [{"kind": k, "dispositif": d, "identified": c.get("identified", 0), "lifted": c.get("lifted", 0)}
                     for (k, d), c in sorted(barriers.items())],
        "lost_reengaged": {"lost": lost, "reengaged": reengaged,
                           "lost_now": sum(n for (s, _), n in by_state.items() if s == "lost")},
        "cohorts": _cohort_report(v, period.start.isoformat() if period.start else "", end, exits_by_person, lifted_by_person),
        "dispositifs": [_dispositif_row(d, people, v, exits_by_person, lifted_by_dispositif, job_or_training)
                        for d, people in sorted(followed_by_dispositif.items())],
    }
    return report, delays


def followed_in(stay: Doc, period: Period, end: str) -> bool:
    """In the dispositif at some time in the period: entered by its end, and not gone before its start
    (no exit, an exit within or after the period, or a new entry after the last exit)."""
    entries = [e[1] for e in stay.get("entries", {}).values()]
    exits = [e[1] for e in stay.get("exits", {}).values()]
    if not entries or (end and min(entries) > end):
        return False
    if period.start is None or not exits:
        return True
    return max(exits) >= period.start.isoformat() or max(entries) > max(exits)


def _months(start: str, stop: str) -> int:
    a, b = date.fromisoformat(start), date.fromisoformat(stop)
    return max(0, (b.year - a.year) * 12 + b.month - a.month - (1 if b.day < a.day else 0))


def _cohort_report(v: _Views, start: str, end: str, exits_by_person: dict[str, list[str]],
                   lifted_by_person: dict[str, int]) -> list[dict[str, Any]]:
    """Cité de l'emploi style: people followed, months followed, exits by class, barriers lifted, per cohort."""
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pid, person in v.persons.items():
        reg = person.get("reg")
        if not reg or (end and reg[2] > end):
            continue
        if start and person.get("closed") and person["closed"][2] < start:
            continue  # closed before the period: not followed in it
        stop = min(end, person["closed"][2]) if person.get("closed") else end
        for cohort in _cohorts(person):
            row = rows[cohort]
            row["persons"] += 1
            row["months_followed"] += _months(reg[2], stop) if stop else 0
            for cls in exits_by_person.get(pid, ()):
                row[f"exit_{cls}"] += 1
            row["barriers_lifted"] += lifted_by_person.get(pid, 0)
    return [{"dimension": dim, "value": val, "persons": r["persons"], "months_followed": r["months_followed"],
             **{f"exit_{c}": r.get(f"exit_{c}", 0) for c in EXIT_CLASSES}, "barriers_lifted": r["barriers_lifted"]}
            for (dim, val), r in sorted(rows.items())]


def _dispositif_row(dispositif: str, people: set[str], v: _Views, exits_by_person: dict[str, list[str]],
                    lifted_by_dispositif: dict[str, int], job_or_training: set[str]) -> dict[str, Any]:
    """Par'Emploi style: families followed, share of single parents, solutions found, returns to job or
    training (an exit of a returning class, or a job or training started in the period)."""
    single = sum(1 for p in people if p in v.persons and _attr(v.persons[p], "single_parent"))
    returns = sum(1 for p in people
                  if p in job_or_training or RETURN_CLASSES & set(exits_by_person.get(p, ())))
    return {"dispositif": dispositif, "families_followed": len(people), "single_parents": single,
            "single_parent_permille": _permille(single, len(people)),
            "solutions_found": lifted_by_dispositif.get(dispositif, 0), "returns_to_job_or_training": returns}
