"""The transfer form's fields, checked before anything is sent: French reasons for the user, or a request.

Pure: the form's values, the structures of the territory and the caseload held now in, a `TransferRequest`
(or the list of what is wrong, in French) out. Which people may move is decided against the caseload read again
when the form comes back, never against what the page showed: a person handed over since is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.vocabulary import TransferReason

# As contracts.vocabulary's Identifier and CounsellorRef: checked here so the user reads a French sentence
# rather than a contract error from intake.
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
NOTE_MAX = 500


@dataclass(frozen=True)
class TransferForm:
    transfer_id: str  # drawn when the form was shown: the same form sent twice is the same transfer
    people: tuple[str, ...]  # the boxes ticked
    everyone: bool  # "tout le portefeuille": whoever is held when the form comes back
    from_counsellor: str  # "" for the whole structure
    to_structure: str
    to_counsellor: str
    effective_on: str  # ISO date, as <input type=date> sends it
    reason: str
    note: str

    @classmethod
    def of(cls, fields: Sequence[tuple[str, str]]) -> TransferForm:
        one = {name: value.strip() for name, value in fields}
        return cls(transfer_id=one.get("transfer_id", ""),
                   people=tuple(dict.fromkeys(v.strip() for n, v in fields if n == "personne" and v.strip())),
                   everyone=one.get("tout") == "oui", from_counsellor=one.get("de_conseiller", ""),
                   to_structure=one.get("vers", ""), to_counsellor=one.get("vers_conseiller", ""),
                   effective_on=one.get("le", ""), reason=one.get("motif", ""), note=one.get("note", ""))


@dataclass(frozen=True)
class TransferRequest:
    transfer_id: str
    people: tuple[str, ...]
    from_counsellor: str | None
    to_structure: str
    to_counsellor: str | None
    effective_on: date
    reason: TransferReason
    note: str | None


def check(form: TransferForm, own: str, structures: Mapping[str, str],
          held: Sequence[str]) -> TransferRequest | list[str]:
    """The request, or every problem with the form (all at once: the user fixes them in one go)."""
    problems = []
    if not REF.match(form.transfer_id) or len(form.transfer_id) > 100:
        problems.append("Le formulaire est incomplet ; rechargez la page des transferts.")
    if form.to_structure not in structures:
        problems.append("Choisissez la structure qui reprend le suivi.")
    for value, what in ((form.from_counsellor, "du conseiller qui transmet"),
                        (form.to_counsellor, "du conseiller qui reprend")):
        if value and (not REF.match(value) or len(value) > 64):
            problems.append(f"La référence {what} ne peut contenir que des lettres sans accent, des chiffres et "
                            "les signes - _ . : (64 caractères au plus), jamais un nom.")
    try:
        effective_on = date.fromisoformat(form.effective_on)
    except ValueError:
        effective_on = None
        problems.append("Indiquez la date à partir de laquelle le transfert prend effet.")
    if form.reason not in {r.value for r in TransferReason}:
        problems.append("Choisissez le motif du transfert.")
    if len(form.note) > NOTE_MAX:
        problems.append(f"La note ne peut dépasser {NOTE_MAX} caractères.")
    if (form.to_structure, form.to_counsellor) == (own, form.from_counsellor):
        problems.append("Le transfert doit changer de structure ou de conseiller : choisissez qui reprend le suivi.")
    if form.everyone:
        people = tuple(held)
        if not people:
            problems.append("Le portefeuille est vide : personne à transférer.")
    else:
        people = form.people
        if not people:
            problems.append("Cochez au moins une personne, ou « Tout le portefeuille ».")
        gone = [p for p in people if p not in set(held)]
        if gone:
            problems.append("Ces personnes ne sont plus dans le portefeuille (transférées entre-temps ?) : "
                            + ", ".join(gone[:10]) + ("…" if len(gone) > 10 else "") + ".")
    if problems or effective_on is None:
        return problems
    return TransferRequest(form.transfer_id, people, form.from_counsellor or None, form.to_structure,
                           form.to_counsellor or None, effective_on, TransferReason(form.reason),
                           form.note or None)
