"""French words for the values the services answer with: the page's users are French counsellors.

An unknown value (a kind added by followup after this page) is shown as it is rather than hidden.
"""

from __future__ import annotations

from contracts.vocabulary import CheckinOutcome

MISSING = "—"

KINDS = {"lost": "Perdu de vue", "at_risk": "À risque", "checkin_missed": "Suivi manqué",
         "checkin_due": "Suivi à faire", "referral_expiring": "Orientation bientôt échue"}

SORTS = {"urgency": "Urgence (les plus urgents d'abord)", "since": "Ancienneté (les plus anciens d'abord)"}

OUTCOMES = {CheckinOutcome.IN_EMPLOYMENT.value: "En emploi", CheckinOutcome.IN_TRAINING.value: "En formation",
            CheckinOutcome.IN_DISPOSITIF.value: "Dans un dispositif",
            CheckinOutcome.SEARCHING.value: "En recherche d'emploi", CheckinOutcome.INACTIVE.value: "Inactive",
            CheckinOutcome.MOVED_AWAY.value: "A déménagé"}

STATES = {"awaiting_orientation": "En attente d'orientation", "referred": "Orientée, en attente de réponse",
          "accompanied": "Accompagnée", "in_dispositif": "Dans un dispositif", "in_training": "En formation",
          "in_employment": "En emploi", "between_steps": "Entre deux étapes", "at_risk": "À risque",
          "lost": "Perdue de vue", "closed": "Dossier clos"}

DELAY_STAGES = {"registration_to_first_referral": "De l'inscription à la première orientation",
                "referral_to_acceptance": "De l'orientation à son acceptation",
                "acceptance_to_first_appointment": "De l'acceptation au premier rendez-vous"}

CHECKIN_KINDS = ("checkin_due", "checkin_missed")


def label(table: dict[str, str], value: object) -> str:
    if value is None or value == "":
        return MISSING
    return table.get(str(value), str(value))
