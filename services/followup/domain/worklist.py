"""The worklist, pure: which lines a person's status puts on which structure's worklist, most urgent first.

A line is meant to be acted on by a counsellor: it names the person by the acting structure's own file number
(never another structure's), gives the id to answer (a referral or a check-in), and says what is expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.followup.domain.decisions import Checkin, Rules, State, Status
from services.followup.domain.facts import Fact


class LineKind(StrEnum):
    """Why a structure must act, in order of urgency."""

    LOST = "lost"
    AT_RISK = "at_risk"
    CHECKIN_MISSED = "checkin_missed"
    CHECKIN_DUE = "checkin_due"
    REFERRAL_EXPIRING = "referral_expiring"
    IDENTITY_REVIEW = "identity_review"


# Stored with each line, so a rank never changes meaning: a new kind gets a rank of its own or shares one.
# An identity review ranks with "at risk": it holds back the alerts of an id that may be someone else's.
URGENCY = {LineKind.LOST: 0, LineKind.AT_RISK: 1, LineKind.IDENTITY_REVIEW: 1, LineKind.CHECKIN_MISSED: 2,
           LineKind.CHECKIN_DUE: 3, LineKind.REFERRAL_EXPIRING: 4}
FIELD_LABELS = {"last_name": "nom", "first_names": "prénoms", "birth_date": "date de naissance",
                "email": "courriel", "phone": "téléphone", "nir": "NIR"}


@dataclass(frozen=True)
class PendingReview:
    """An identity review the coordinator has not decided, about this person's id and another."""

    review_id: str
    other_person_id: str
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    opened_on: date
    awaiting_merge: bool = False  # decided "same person": no line any more, alerts wait for the merge

# What to do about a person nobody holds, by the reason they are not held. French: counsellors read it.
_RECOVER = {
    "referral_expired": "l'orientation a expiré sans réponse : recontacter la personne et la réorienter",
    "exit_without_next_step": "sortie sans suite : proposer une suite (orientation, dispositif, emploi, "
                              "formation) et l'enregistrer",
    "job_ended_unheld": "fin d'emploi sans accompagnement : reprendre contact et proposer un accompagnement",
    "no_contact": "aucun contact depuis trop longtemps : joindre la personne et enregistrer le contact",
    "checkin_missed": "suivi manqué : joindre la personne et répondre au suivi",
}


@dataclass(frozen=True)
class WorklistLine:
    """One line of a worklist: why a structure must act for a person, since when, and what is expected."""

    person_id: str
    structure_id: str
    kind: LineKind
    reason: str
    since: date
    answer_id: str | None = None  # the referral or check-in the structure answers by this id
    expected: str = ""
    file_number: str | None = None  # the acting structure's own file number for the person, if it gave one

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind]


def file_numbers(facts: Iterable[Fact]) -> dict[str, str]:
    """Each structure's own file number for the person: the last one it gave on a registration or an update."""
    out: dict[str, str] = {}
    for fact in sorted(facts, key=lambda f: f.order):
        number = fact.info.get("file_number")
        if number and fact.structure and fact.kind in ("registered", "profile"):
            out[fact.structure] = number
    return out


def worklist_lines(person_id: str, status: Status, today: date | None, rules: Rules,
                   numbers: Mapping[str, str] | None = None,
                   review: PendingReview | None = None) -> list[WorklistLine]:
    """Today's worklist lines for one person: at risk or lost, check-ins due or missed, referrals expiring
    within `rules.remind_days` (unless their target holds the person already). `numbers` maps a structure to
    its own file number for the person. While an identity `review` is pending, the coordinator has a line to
    decide it instead of an at-risk or lost line."""
    numbers = numbers or {}
    out: list[WorklistLine] = []
    if review is not None:
        if not review.awaiting_merge:
            out.append(_review_line(person_id, review, rules))
    elif status.state in (State.LOST, State.AT_RISK) and status.structure_to_act and status.since:
        kind = LineKind(status.state.value)
        reason = status.reason or kind.value
        answer = status.risk_key.partition(":")[2] if reason == "checkin_missed" and status.risk_key else None
        lead = "Perdue de vue" if kind is LineKind.LOST else "Risque de perte de vue"
        todo = _RECOVER.get(reason, "reprendre contact avec la personne")
        out.append(WorklistLine(person_id, status.structure_to_act, kind, reason, status.since, answer,
                                f"{lead} : {todo}.", numbers.get(status.structure_to_act)))
    missed = {c.id for c in status.checkins_missed}
    for c in status.checkins_due:
        kind = LineKind.CHECKIN_MISSED if c.id in missed else LineKind.CHECKIN_DUE
        out.append(WorklistLine(person_id, c.structure, kind, f"{c.anchor}+{c.months}m", c.due_on, c.id,
                                _checkin_expected(c, kind, rules), numbers.get(c.structure)))
    if today is not None:
        for ref, to, due in status.referrals_pending:
            # A structure that holds the person already (their entry into its dispositif came before its answer
            # to the referral) has in fact answered it: it is not reminded to answer for someone it accompanies.
            if due is not None and to not in status.holders and due - today <= timedelta(days=rules.remind_days):
                # A reason is at most 64 characters, the width of a worklist line's reason.
                out.append(WorklistLine(person_id, to, LineKind.REFERRAL_EXPIRING, ref[:64], due, ref,
                                        f"Répondre à l'orientation avant le {due:%d/%m/%Y} : l'accepter ou "
                                        "la refuser.", numbers.get(to)))
    return out


def _checkin_expected(c: Checkin, kind: LineKind, rules: Rules) -> str:
    after = "la sortie" if c.anchor == "exit" else "la prise d'emploi"
    if kind is LineKind.CHECKIN_MISSED:
        return (f"Suivi à {c.months} mois après {after} en retard : joindre la personne et répondre au suivi "
                "(personne jointe ou non, sa situation).")
    limit = c.due_on + timedelta(days=rules.thresholds.checkin_grace_days)
    return (f"Suivi à {c.months} mois après {after} : joindre la personne et répondre au suivi avant le "
            f"{limit:%d/%m/%Y} (personne jointe ou non, sa situation).")


def _review_line(person_id: str, review: PendingReview, rules: Rules) -> WorklistLine:
    same = ", ".join(FIELD_LABELS.get(f, f) for f in review.matched)
    missing = ", ".join(FIELD_LABELS.get(f, f) for f in review.missing)
    expected = (f"Vérifier si ce dossier et {review.other_person_id} sont la même personne (en commun : {same}"
                + (f" ; manque : {missing}" if missing else "") + ") et décider : même personne (fusion) ou "
                "personnes différentes. Ses alertes attendent la décision.")
    return WorklistLine(person_id, rules.coordinator, LineKind.IDENTITY_REVIEW, ("same " + same)[:64],
                        review.opened_on, review.review_id, expected)
