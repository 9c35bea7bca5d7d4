"""What a page says to a user whose key may not read it: a sentence saying who may, and why, on a 403.

The services decide (the page only passes the user's key on); these sentences turn their 403 into words the
user can act on, instead of the "service unavailable" a failed call would show.
"""

from __future__ import annotations

from services.web.pages.markup import esc

WORKLIST_NOT_FOR_AN_AUDITOR = (
    "Une clé d'audit lit les rapports et l'historique d'une personne, pas les listes de travail : celles-ci "
    "nomment les personnes par le numéro de dossier de chaque structure, que seules la structure et la "
    "coordination du territoire voient.")
DASHBOARD_NOT_FOR_A_STRUCTURE = (
    "Le tableau de bord du territoire est lu par la coordination du territoire et les auditeurs. Votre structure "
    "trouve les personnes qu'elle suit et ce qu'elle doit faire dans sa liste de travail.")


def refused_body(sentence: str) -> str:
    return f'<p class="notice">{esc(sentence)}</p>'
