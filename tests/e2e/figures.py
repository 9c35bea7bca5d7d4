"""Comparable figures: the simulator's ground truth and what Ariane reports, as two flat dicts.

Pure functions only. `expected_figures(truth)` reads the simulator's truth.json; `reported_figures(report,
worklist_items, ledger)` reads the reporting service's GET /v1/report, every item of followup's GET
/v1/worklist (coordinator's view, all pages) and GET /v1/ledger, and, for a year with near-duplicate
registrations, intake's GET /v1/identity-reviews by status (`expected_reviews` / `reported_reviews` compare
them file by file). Both give figures named alike
("exits/by_class/emploi_durable"); `compare` lists the differences and `render` prints them as a table.

A figure missing on one side counts as 0 there (the report has no row for an empty cell; the truth has no
key for a count of nothing).

Figures that cannot be compared, and why:

* registrations by structure, jobs started by contract type or ended by reason, trainings, contacts,
  check-ins done, cases closed by reason: the truth states them, but the report does not (its tables are
  flows, exits, barriers, lost/re-engaged, cohorts and dispositifs; persons_by_state is per *current*
  structure, not the registering one). Only the total of registered people is comparable (cohort "all",
  and the ledger's `registered`).
* dispositif entries: the truth counts entry events, the report counts people followed per dispositif
  (families_followed): a person entering twice is 1 on one side and 2 on the other.
* referral outcomes by kind (orientation / prescription): the report's flows are per (from, to) structure
  without the kind, so only the totals over both kinds are compared; first appointments held have no
  truth figure.
* lost detections by reason and by structure to act over the whole year, and at-risk flags: the report
  gives only the number of people lost and re-engaged; followup's worklist shows only who is lost *now*
  (those are compared, by reason and structure to act); the year's counts by reason exist only as
  Prometheus counters, which the followup README says may count a retried batch twice. *When* people were
  detected is compared per ISO week (the report restricted to a week counts the people detected in it): a
  rule off by a day moves detections across week boundaries, which totals alone would not show.
* delays (registration -> referral -> acceptance -> appointment), months followed, cohorts by entry month,
  per-cohort exits, returns to job or training: the truth does not compute them.
* caseload transfers: the simulated partners never hand a caseload over, so the table stays empty; the
  unit and integration tests of reporting and followup count transfers from stories of their own.
* childcare solutions by kind (temporary, permanent, assistante maternelle): the simulator draws the kind from
  the barrier's id in the seed's proportions and its truth does not count them; the reporting unit tests do.
* dispositif "solutions found": the same barriers lifted per dispositif, already compared from the
  barrier table (and stated only for dispositifs someone entered).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

Figures = dict[str, int]

# The truth's final states (simulator/parcours.py Status) against followup's ledger states
# (services/followup/domain.py State). Both derive a person's state with the same rules; followup splits
# "held" by the strongest hold and "waiting" by whether a referral is pending:
#   held     = accompanied | in_dispositif | in_training | in_employment  (someone holds the person)
#   waiting  = awaiting_orientation | referred                           (nobody holds, no gap, or a gap
#                                                                          suspended by a pending referral)
#   between  = between_steps                                             (a gap below the at-risk threshold)
#   at_risk, lost, closed: the same words on both sides.
LEDGER_STATE_OF = {
    "accompanied": "held", "in_dispositif": "held", "in_training": "held", "in_employment": "held",
    "awaiting_orientation": "waiting", "referred": "waiting", "between_steps": "between",
    "at_risk": "at_risk", "lost": "lost", "closed": "closed",
}
COHORT_FLAGS = (("qpv_resident", "qpv"), ("single_parent", "single_parent"), ("rqth", "rqth"), ("rsa", "rsa"))


@dataclass(frozen=True)
class Mismatch:
    figure: str
    expected: int
    reported: int

    @property
    def difference(self) -> int:
        return self.reported - self.expected


def _add(out: Figures, name: str, value: int) -> None:
    out[name] = out.get(name, 0) + int(value)


def week_of(day: date | str) -> str:
    """The ISO week of a day, e.g. 2026-W05."""
    year, week, _ = (date.fromisoformat(day) if isinstance(day, str) else day).isocalendar()
    return f"{year}-W{week:02d}"


def _last_episode_by_person(lost_rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for row in sorted(lost_rows, key=lambda r: (r["detected_on"], r["since"])):
        last[row["person"]] = row
    return last


def expected_figures(truth: dict[str, Any]) -> Figures:
    """The figures the ground truth states, named as `reported_figures` names them."""
    r = truth["report"]
    out: Figures = {}
    registered = [p for p in truth["people"] if p["registered"]]
    _add(out, "people/registered", r["people_registered"])
    # Identity reviews (a year with near-duplicate registrations): opened on each second file, decided as the
    # story wrote it; a file the coordinator said is the same person is one more id followup knows, merged.
    reviews = r.get("identity_reviews", {})
    for name in ("opened", "same_person", "different_people"):
        _add(out, f"reviews/{name}", reviews.get(name, 0))
    _add(out, "ledger/registered", r["people_registered"] + reviews.get("same_person", 0))
    _add(out, "ledger/merged", reviews.get("same_person", 0))
    for cls, n in r["exits_by_class"].items():
        _add(out, f"exits/by_class/{cls}", n)
    for dispositif, by_class in r["exits_by_dispositif"].items():
        for cls, n in by_class.items():
            _add(out, f"exits/by_dispositif/{dispositif}/{cls}", n)
    for kind, n in r["barriers_identified"].items():
        _add(out, f"barriers/identified/{kind}", n)
    for kind, n in r["barriers_lifted"].items():
        _add(out, f"barriers/lifted/{kind}", n)
    for dispositif, n in r["barriers_lifted_by_dispositif"].items():
        _add(out, f"barriers/lifted_by_dispositif/{dispositif}", n)  # "none": lifted by a structure alone

    # Referral outcomes, both kinds together (see the module docstring). The truth gives each referral one
    # outcome, and so does the report: a referral accepted after its deadline (truth: accepted_late) is
    # accepted, and its missed deadline is counted once as breached, never as expired. A referral withdrawn
    # (its case closed before the answer) is neither expired nor breached.
    totals: Counter[str] = Counter()
    for outcomes in r["referral_outcomes"].values():
        totals.update(outcomes)
    _add(out, "referrals/issued", totals["issued"])
    _add(out, "referrals/accepted", totals["accepted"] + totals["accepted_late"])
    _add(out, "referrals/refused", totals["refused"])
    _add(out, "referrals/expired", totals["expired"])  # an acceptance after the deadline is accepted, late
    _add(out, "referrals/withdrawn", totals["withdrawn"])
    _add(out, "referrals/breached", totals["expired"] + totals["accepted_late"])

    # Lost and re-engaged, in people (the report's unit): anyone with at least one episode.
    lost_rows = truth["lost"]
    _add(out, "lost/people", r["lost_people"])
    _add(out, "lost/reengaged_people", len({row["person"] for row in lost_rows if row["reengaged_on"]}))
    # When: people detected lost per ISO week (a detection one day off shows up as one person moving weeks).
    for week, persons in Counter(week for week, _person in
                                 {(week_of(row["detected_on"]), row["person"]) for row in lost_rows}).items():
        _add(out, f"lost/detected_in_week/{week}", persons)
    # Lost now: people whose final state is lost; the report names the structure to act of their latest
    # lost episode, the worklist lists their open episode with its reason and structure.
    final = {p["person"]: p["final"]["state"] for p in truth["people"]}
    last = _last_episode_by_person(lost_rows)
    _add(out, "lost_now/people", sum(1 for state in final.values() if state == "lost"))
    for person, state in final.items():
        if state == "lost":
            _add(out, f"lost_now/by_structure/{last[person]['structure_to_act']}", 1)
    for row in lost_rows:
        if row["reengaged_on"] is None:
            _add(out, "worklist/lost", 1)
            _add(out, f"worklist/lost/by_reason/{row['reason']}", 1)
            _add(out, f"worklist/lost/by_structure/{row['structure_to_act']}", 1)

    # The report's persons_by_state says "closed" when a closure is the person's latest mark.
    _add(out, "persons/closed", sum(1 for state in final.values() if state == "closed"))
    for state, n in r["final_states"].items():
        _add(out, f"ledger/state/{state}", n)

    # Cohorts: people registered, per profile flag (the registration's values; the simulator sends no
    # profile update) and under 26 at registration (registration year minus birth year).
    same_year = truth["start"][:4] == truth["end"][:4]
    for person in registered:
        _add(out, "cohort/all", 1)
        for field, label in COHORT_FLAGS:
            _add(out, f"cohort/{label}/{'yes' if person[field] else 'no'}", 1)
        if same_year:
            under = int(truth["start"][:4]) - int(person["birth_year"]) < 26
            _add(out, f"cohort/under_26/{'yes' if under else 'no'}", 1)
    return out


def reported_figures(report: dict[str, Any], worklist_items: list[dict[str, Any]], ledger: dict[str, Any],
                     detections_by_week: dict[str, int] | None = None,
                     reviews: dict[str, list[dict[str, Any]]] | None = None) -> Figures:
    """The same figures from what Ariane serves: the report, the coordinator's whole worklist, the ledger, the
    report restricted to each ISO week (`lost_reengaged.lost` of GET /v1/report?start=<monday>&end=<sunday>,
    keyed by week_of(monday)), and intake's identity reviews by status (GET /v1/identity-reviews?status=...;
    followup's ledger says how many it still has pending)."""
    out: Figures = {}
    if reviews is not None:
        _add(out, "reviews/opened", sum(len(items) for items in reviews.values()))
        for status, items in reviews.items():
            if status != "pending":
                _add(out, f"reviews/{status}", len(items))
        _add(out, "reviews/pending", len(reviews.get("pending", [])))
        _add(out, "reviews/pending_in_followup", ledger.get("identity_reviews_pending", 0))
    _add(out, "ledger/merged", ledger.get("merged", 0))
    for week, persons in (detections_by_week or {}).items():
        _add(out, f"lost/detected_in_week/{week}", persons)
    cohorts = {(row["dimension"], row["value"]): row for row in report["cohorts"]}
    _add(out, "people/registered", cohorts.get(("all", "all"), {}).get("persons", 0))
    _add(out, "ledger/registered", ledger["registered"])
    for row in report["exits"]:
        _add(out, f"exits/by_class/{row['exit_class']}", row["exits"])
        _add(out, f"exits/by_dispositif/{row['dispositif']}/{row['exit_class']}", row["exits"])
    for row in report["barriers"]:
        _add(out, f"barriers/identified/{row['kind']}", row["identified"])
        _add(out, f"barriers/lifted/{row['kind']}", row["lifted"])
        if row["lifted"]:
            _add(out, f"barriers/lifted_by_dispositif/{row['dispositif'] or 'none'}", row["lifted"])
    for flow in report["flows"]:
        for outcome in ("issued", "accepted", "refused", "expired", "withdrawn", "breached"):
            _add(out, f"referrals/{outcome}", flow[outcome])

    _add(out, "lost/people", report["lost_reengaged"]["lost"])
    _add(out, "lost/reengaged_people", report["lost_reengaged"]["reengaged"])
    _add(out, "lost_now/people", report["lost_reengaged"]["lost_now"])
    for row in report["persons_by_state"]:
        if row["state"] == "lost":
            _add(out, f"lost_now/by_structure/{row['structure']}", row["persons"])
        elif row["state"] == "closed":
            _add(out, "persons/closed", row["persons"])
    for item in worklist_items:
        if item["kind"] == "lost":
            _add(out, "worklist/lost", 1)
            _add(out, f"worklist/lost/by_reason/{item['reason']}", 1)
            _add(out, f"worklist/lost/by_structure/{item['structure_id']}", 1)

    for state, n in ledger["counts"].items():
        _add(out, f"ledger/state/{LEDGER_STATE_OF.get(state, state)}", n)

    _add(out, "cohort/all", cohorts.get(("all", "all"), {}).get("persons", 0))
    for dimension in ("qpv", "single_parent", "rqth", "rsa", "under_26"):
        for value in ("yes", "no"):
            _add(out, f"cohort/{dimension}/{value}", cohorts.get((dimension, value), {}).get("persons", 0))
    return out


def compare(expected: Figures, actual: Figures) -> list[Mismatch]:
    """Every figure whose values differ (a figure absent on one side is 0 there), sorted by name."""
    return [Mismatch(name, expected.get(name, 0), actual.get(name, 0))
            for name in sorted(expected.keys() | actual.keys()) if expected.get(name, 0) != actual.get(name, 0)]


def render(mismatches: list[Mismatch]) -> str:
    """A plain-text table: figure, expected (ground truth), reported, difference (reported - expected)."""
    if not mismatches:
        return "every figure equals the ground truth"
    header = ("figure", "expected (ground truth)", "reported", "difference")
    rows = [(m.figure, str(m.expected), str(m.reported), f"{m.difference:+d}") for m in mismatches]
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([f"{len(mismatches)} figure(s) differ from the ground truth", line(header), rule,
                      *(line(r) for r in rows)])


# -- who is lost -------------------------------------------------------------------------------------------------

LostKey = tuple[str, str, str, str]  # (person_id, reason, since, structure to act)


def registration_event_ids(scripts: Any) -> dict[str, str]:
    """partner_ref -> the id of the simulated registration event (what the sender's directory maps to a
    person_id: `directory.person_by_event[event id]`); a second file registered for the person (a near-duplicate)
    under its own file number."""
    out: dict[str, str] = {}
    for script in scripts:
        for _day, event in script.events:
            if event.type.endswith("person.registered"):
                out.setdefault(event.subject, event.id)
    return out


# -- identity reviews ------------------------------------------------------------------------------------------

def expected_reviews(truth: dict[str, Any]) -> dict[str, set[tuple[str, ...]]]:
    """Per person (partner_ref) whose file was registered again with a close name: (the second file's
    partner_ref, the coordinator's decision), as the story wrote it."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for person in truth["people"]:
        for review in person.get("identity_reviews", []):
            out.setdefault(person["partner_ref"], set()).add((review["partner_ref"], review["decision"]))
    return out


def reported_reviews(reviews: dict[str, list[dict[str, Any]]], ref_of_person: dict[str, str]) -> dict[
        str, set[tuple[str, ...]]]:
    """The same from intake's reviews: the older file (other_person_id) -> (the newer, status)."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for items in reviews.values():
        for item in items:
            older = ref_of_person.get(item["other_person_id"], item["other_person_id"])
            newer = ref_of_person.get(item["person_id"], item["person_id"])
            out.setdefault(older, set()).add((newer, item["status"]))
    return out


REVIEW_FIELDS = ("second file", "decision")


def expected_lost(truth: dict[str, Any], person_of_ref: dict[str, str]) -> set[LostKey]:
    """The people still lost at the end of the year, named by the person_id intake gave them."""
    return {(person_of_ref.get(row["partner_ref"], f"unmapped:{row['partner_ref']}"), row["reason"], row["since"],
             row["structure_to_act"]) for row in truth["lost"] if row["reengaged_on"] is None}


def reported_lost(worklist_items: list[dict[str, Any]]) -> set[LostKey]:
    return {(item["person_id"], item["reason"], item["since"], item["structure_id"])
            for item in worklist_items if item["kind"] == "lost"}


def render_lost(expected: set[LostKey], reported: set[LostKey], ref_of_person: dict[str, str]) -> str:
    """Who is lost on one side only, person by person, named by partner_ref where known, with the fields that
    differ when both sides have the person."""
    def by_person(keys: set[LostKey]) -> dict[str, set[tuple[str, ...]]]:
        out: dict[str, set[tuple[str, ...]]] = {}
        for person, *rest in keys:
            out.setdefault(ref_of_person.get(person, person), set()).add(tuple(rest))
        return out

    lines = [f"lost people: {len(expected)} expected, {len(reported)} on the worklist"]
    if expected != reported:
        lines.append(render_people(by_person(expected), by_person(reported), ("reason", "since", "to act"),
                                   reported_as="on the worklist"))
    return "\n".join(lines)


def render_people(expected: dict[str, set[tuple[str, ...]]], reported: dict[str, set[tuple[str, ...]]],
                  fields: tuple[str, ...], reported_as: str = "reported") -> str:
    """Person by person, what the story expects and what Ariane reports when they differ: one line per side,
    and, when each side has one row for the person, which fields differ. `expected` and `reported` map a
    person (partner_ref) to rows of `fields` (e.g. reason, since, detected on, structure to act)."""
    def show(row: tuple[str, ...] | None) -> str:
        return "nothing" if row is None else ", ".join(f"{name} {value}" for name, value in zip(fields, row))

    people = sorted(p for p in expected.keys() | reported.keys() if expected.get(p, set()) != reported.get(p, set()))
    lines = [f"{len(people)} person(s) differ (expected: the story as scripted)"]
    width = max((len(p) for p in people), default=0)
    for person in people:
        mine, theirs = sorted(expected.get(person, set())), sorted(reported.get(person, set()))
        only_mine = [r for r in mine if r not in theirs]
        only_theirs = [r for r in theirs if r not in mine]
        for n in range(max(len(only_mine), len(only_theirs))):
            e = only_mine[n] if n < len(only_mine) else None
            r = only_theirs[n] if n < len(only_theirs) else None
            differ = "" if e is None or r is None else "  <- " + ", ".join(
                name for name, a, b in zip(fields, e, r) if a != b)
            lines.append(f"  {person.ljust(width)}  expected: {show(e)}")
            lines.append(f"  {' ' * width}  {reported_as}: {show(r)}{differ}")
    return "\n".join(lines)


def lost_rows_by_person(rows: list[dict[str, Any]]) -> dict[str, set[tuple[str, ...]]]:
    """truth.json's lost rows as render_people wants them: partner_ref -> (reason, since, detected on,
    structure to act)."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for row in rows:
        out.setdefault(row["partner_ref"], set()).add(
            (row["reason"], row["since"], row["detected_on"], row["structure_to_act"]))
    return out


LOST_FIELDS = ("reason", "since", "detected on", "to act")
