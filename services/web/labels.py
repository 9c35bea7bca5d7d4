"""French words for the values the services answer with: the page's users are French counsellors.

An unknown value (a kind added by followup after this page) is shown as it is rather than hidden.
"""

from __future__ import annotations

from contracts.identity import MatchedField
from contracts.vocabulary import CheckinOutcome, TransferReason

MISSING = "—"

KINDS = {"lost": "Perdu de vue", "at_risk": "À risque", "checkin_missed": "Suivi manqué",
         "checkin_due": "Suivi à faire", "referral_expiring": "Orientation bientôt échue",
         "identity_review": "Revue d'identité"}

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

TRANSFER_REASONS = {TransferReason.COUNSELLOR_LEFT.value: "Départ du conseiller ou de la conseillère",
                    TransferReason.COUNSELLOR_ABSENT.value: "Absence du conseiller ou de la conseillère",
                    TransferReason.REORGANISATION.value: "Réorganisation du service",
                    TransferReason.STRUCTURE_CLOSING.value: "Fermeture de la structure",
                    TransferReason.PERSON_MOVED.value: "La personne a déménagé",
                    TransferReason.SPECIALISED_SUPPORT.value: "Accompagnement spécialisé",
                    TransferReason.OTHER.value: "Autre motif"}

MATCHED = {MatchedField.LAST_NAME.value: "nom", MatchedField.FIRST_NAMES.value: "prénoms",
           MatchedField.BIRTH_DATE.value: "date de naissance", MatchedField.EMAIL.value: "adresse électronique",
           MatchedField.PHONE.value: "téléphone", "nir": "NIR (numéro de sécurité sociale)"}

DECISIONS = {"same_person": "Même personne (les deux dossiers seront réunis)",
             "different_people": "Deux personnes différentes"}


def label(table: dict[str, str], value: object) -> str:
    if value is None or value == "":
        return MISSING
    return table.get(str(value), str(value))
