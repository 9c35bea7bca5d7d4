"""One person's dated history, pure: what happened, who held them, what Ariane concluded, and by which rule.

Built from the person's facts (every partner fact and referral decision followup consumed), the alerts already
emitted for them, and today's status. Labels are French: coordinators and counsellors read them. No file
number and no identity appears here; the API adds the caller's own file number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.followup.domain.decisions import PersonFile, Rules, State, Status
from services.followup.domain.facts import Fact
from services.followup.domain.unknown_facts import DROPPED, KEPT

GAP_LABELS = {
    "referral_expired": "orientation restée sans réponse",
    "exit_without_next_step": "sortie sans suite",
    "job_ended_unheld": "fin d'emploi sans accompagnement",
    "no_contact": "aucun contact",
    "checkin_missed": "suivi manqué",
}


@dataclass(frozen=True)
class TimelineEntry:
    day: date
    kind: str  # a fact's kind, or an alert or check-in Ariane decided ("at_risk", "lost", "checkin_due", ...)
    label: str
    structure_id: str | None = None
    ref: str | None = None  # the referral, dispositif, job, training or check-in it is about
    rule: str | None = None  # the rule that makes it matter, when one does
    at: datetime | None = None  # the business time of a fact (alerts have only a day)


def timeline(file: PersonFile, status: Status, rules: Rules, today: date | None) -> list[TimelineEntry]:
    """The person's history, oldest first; on one day, facts come before what Ariane concluded from them."""
    entries = [_of_fact(f, rules) for f in sorted(file.facts, key=lambda f: f.order)]
    entries += _episodes(file, status, rules, today)
    entries += _checkins(status, rules)
    return sorted(entries, key=lambda e: (e.day, e.at is None, e.at or datetime.min, e.kind))


def involved_structures(file: PersonFile, status: Status) -> set[str]:
    """The structures that have had to do with the person: they may read the person's timeline."""
    found = {f.structure for f in file.facts if f.structure}
    found |= {f.info["from"] for f in file.facts if f.info.get("from")}
    found |= set(status.holders) | {c.structure for c in status.checkins_due}
    found |= {to for _ref, to, _due in status.referrals_pending}
    if status.structure_to_act:
        found.add(status.structure_to_act)
    return found


def _of_fact(f: Fact, rules: Rules) -> TimelineEntry:
    th, i = rules.thresholds, f.info
    label, rule = _FACT_LABELS.get(f.kind, f.kind), None
    match f.kind:
        case "contact":
            label = "Contact avec la personne" if i.get("reached") else "Tentative de contact (personne non jointe)"
        case "barrier":
            label = f"Frein {'levé' if i.get('lifted') else 'identifié'} : {i.get('kind')}"
        case "referral_issued":
            due = date.fromisoformat(i["due"]) if i.get("due") else None
            label = f"Orientation de {i.get('from')} vers {f.structure}" + (f", réponse attendue le {due:%d/%m/%Y}"
                                                                            if due else "")
            rule = "sans réponse à l'échéance, l'orientation expire et la personne n'est plus tenue"
        case "referral_accepted":
            rule = "la structure qui accepte l'orientation tient la personne"
        case "referral_refused":
            label = f"Orientation refusée ({i.get('reason')})"
            rule = ("la structure qui a orienté garde la personne et cherche une autre solution ; si une autre "
                    "structure l'accompagne, c'est elle qui agit sur un silence")
        case "referral_expired":
            rule = (f"personne non tenue : à risque après {th.at_risk_after_days} jours, perdue de vue après "
                    f"{th.lost_after_days} jours")
        case "dispositif_exited":
            step = i.get("next_step")
            label = f"Sortie du dispositif ({i.get('exit_class')})" + (f", suite : {step}" if step else ", sans suite")
            rule = (f"suivis après la sortie ; sans suite, à risque après {th.at_risk_after_days} jours"
                    if not step else "suivis après la sortie")
        case "job_started":
            label = "Début d'emploi durable" if i.get("lasting") else "Début d'emploi"
            months = ", ".join(str(m) for m in th.checkin_months)
            rule = f"suivis à {months} mois"
        case "job_ended":
            label = f"Fin d'emploi ({i.get('reason')})"
        case "checkin_done":
            reached = "personne jointe" if i.get("reached") else "personne non jointe"
            label = f"Suivi fait : {reached}" + (f", {i['situation']}" if i.get("situation") else "")
        case "case_closed":
            label = f"Dossier clos ({i.get('reason')})"
        case "caseload_transferred":
            src = i.get("from", "") + (f"/{i['from_counsellor']}" if i.get("from_counsellor") else "")
            dst = (f.structure or "") + (f"/{i['to_counsellor']}" if i.get("to_counsellor") else "")
            label = f"Suivi transféré de {src} à {dst} ({i.get('reason')})"
            rule = "le nouveau titulaire tient la personne à partir de cette date"
    if i.get(DROPPED):
        # An answer to a fact that never came within its wait: shown, so nobody wonders where it went, but it
        # never counted; its sender got a dead letter that day.
        label += (f" — non pris en compte : {_NEVER_RECEIVED.get(f.kind, 'le fait auquel il répond')} n'a jamais été "
                  f"reçu ; signalé à {f.structure} le {date.fromisoformat(i[DROPPED]):%d/%m/%Y}")
        rule = "une réponse à un fait jamais reçu ne compte pas ; son émetteur reçoit un rejet motivé"
    elif KEPT in i:
        label += f" — en attente : {_NEVER_RECEIVED.get(f.kind, 'le fait auquel il répond')} n'est pas encore reçu"
        rule = "ne compte, à sa date, qu'une fois reçu le fait auquel il répond"
    return TimelineEntry(f.day, f.kind, label, f.structure, f.ref, rule, f.at)


# What an answer answers, for an answer still waiting for it or dropped (unknown_facts.OPENED_BY).
_NEVER_RECEIVED = {"dispositif_exited": "l'entrée dans ce dispositif", "job_ended": "le début de cet emploi",
                   "checkin_done": "ce suivi"}


_FACT_LABELS = {
    "registered": "Inscription", "profile": "Mise à jour du dossier",
    "referral_accepted": "Orientation acceptée", "referral_appointment": "Premier rendez-vous tenu",
    "referral_expired": "Orientation expirée sans réponse", "referral_withdrawn": "Orientation retirée",
    "dispositif_entered": "Entrée en dispositif", "training_started": "Entrée en formation",
    "training_ended": "Fin de formation",
}


def _episodes(file: PersonFile, status: Status, rules: Rules, today: date | None) -> list[TimelineEntry]:
    """Alerts: past episodes from what was emitted (dated by the day the gap opened), the current one in full."""
    th, em, out = rules.thresholds, file.emitted, []
    current = status.risk_key if status.state in (State.AT_RISK, State.LOST) else None
    for key in sorted(em.at_risk | set(em.lost)):
        if key == current:
            continue
        reason, _, since = key.partition(":")
        what = GAP_LABELS.get(reason, reason)
        day = _day_or_none(since)
        if day is None:  # a missed check-in's key names the check-in, not a day
            continue
        if key in em.corrected:
            outcome = "alerte corrigée : un fait arrivé plus tard montre que la personne était tenue"
        elif key in em.reengaged:
            outcome = "la personne a été retrouvée"
        else:
            outcome = "épisode clos"
        lost = "perdue de vue" if key in em.lost else "à risque"
        out.append(TimelineEntry(day, "episode", f"Personne {lost} ({what}) ; {outcome}",
                                 rule=f"{th.lost_after_days} jours sans structure : perdue de vue"))
    if current and status.since:
        who, what = status.structure_to_act, GAP_LABELS.get(status.reason or "", status.reason)
        if status.at_risk_on and (today is None or status.at_risk_on <= today):
            out.append(TimelineEntry(status.at_risk_on, "at_risk", f"À risque ({what}) : {who} doit agir", who,
                                     rule=f"{th.at_risk_after_days} jours sans structure : à risque"))
        if status.state == State.LOST and status.lost_on:
            out.append(TimelineEntry(status.lost_on, "lost", f"Perdue de vue ({what}) : {who} doit la retrouver",
                                     who, rule=f"{th.lost_after_days} jours sans structure : perdue de vue"))
        if status.reason == "checkin_missed":
            day = status.since + timedelta(days=th.checkin_grace_days)
            out.append(TimelineEntry(day, "at_risk", f"À risque (suivi manqué) : {who} doit agir", who,
                                     rule=f"suivi non fait {th.checkin_grace_days} jours après son échéance"))
    return out


def _checkins(status: Status, rules: Rules) -> list[TimelineEntry]:
    missed = {c.id for c in status.checkins_missed}
    out = []
    for c in status.checkins_due:
        after = "la sortie" if c.anchor == "exit" else "la prise d'emploi"
        out.append(TimelineEntry(c.due_on, "checkin_due", f"Suivi à {c.months} mois après {after} dû", c.structure,
                                 c.id, rule="suivi post-sortie ou post-emploi"))
        if c.id in missed:
            day = c.due_on + timedelta(days=rules.thresholds.checkin_grace_days)
            out.append(TimelineEntry(day, "checkin_missed", f"Suivi à {c.months} mois non fait", c.structure,
                                     c.id, rule=f"{rules.thresholds.checkin_grace_days} jours de grâce passés"))
    return out


def _day_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
