"""The transfer form: a structure's caseload (or one counsellor's), the people to hand over, to whom, from when.

Pure: followup's GET /v1/caseload answer and the choices in, HTML out. Only a structure's own users get the
form (they send their structure's events); the coordinator and auditors read why it is not offered to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.web.labels import TRANSFER_REASONS
from services.web.pages.markup import attr, csrf_field, esc, query
from services.web.transfer_form import NOTE_MAX

NOT_FOR_THE_COORDINATOR = (
    "Les transferts de portefeuille sont faits par la structure qui suit les personnes, avec la clé d'un de ses "
    "utilisateurs : c'est elle qui les confie à une autre. La clé de la coordination du territoire lit les listes "
    "de toutes les structures, mais n'envoie aucun événement au nom de l'une d'elles. Pour un transfert, "
    "adressez-vous à la structure qui suit les personnes concernées.")
PICK_STRUCTURE, PICK_REASON = "— Choisir une structure —", "— Choisir un motif —"
NOT_FOR_AN_AUDITOR = (
    "Une clé d'audit lit les historiques et les rapports, sans jamais modifier un suivi : les transferts de "
    "portefeuille sont faits par les structures elles-mêmes.")


def not_offered_body(*, auditor: bool) -> str:
    return f'<p class="notice">{esc(NOT_FOR_AN_AUDITOR if auditor else NOT_FOR_THE_COORDINATOR)}</p>'


def _options(options: Mapping[str, str], chosen: str, *, placeholder: str) -> str:
    out = f'<option value="">{esc(placeholder)}</option>'
    return out + "".join(f'<option value="{attr(value)}"{" selected" if value == chosen else ""}>{esc(text)}</option>'
                         for value, text in options.items())


def _counsellor_filter(counsellor: str) -> str:
    return ('<form method="get" action="/transferts" class="filters" aria-label="Choisir le portefeuille">'
            '<div class="field"><label for="f-conseiller">Portefeuille d\'un conseiller (sa référence ; vide : toute '
            'la structure)</label>'
            f'<input type="text" id="f-conseiller" name="conseiller" value="{attr(counsellor)}" '
            'maxlength="64" spellcheck="false" autocapitalize="off"></div>'
            '<button type="submit">Afficher ce portefeuille</button></form>')


def _people(items: list[Mapping[str, Any]], total: int) -> str:
    rows = "".join(
        f'<tr><td><input type="checkbox" name="personne" value="{attr(i.get("person_id"))}" id="p{n}"></td>'
        f'<th scope="row"><label for="p{n}">{esc(i.get("file_number") or i.get("person_id"))}</label></th>'
        f'<td><a href="{query("/personnes/" + str(i.get("person_id")), {})}">{esc(i.get("person_id"))}</a></td>'
        f'<td>{esc(i.get("counsellor"))}</td></tr>'
        for n, i in enumerate(items))
    if not items:
        rows = '<tr><td colspan="4">Personne n\'est suivi dans ce portefeuille aujourd\'hui.</td></tr>'
    more = (f'<p>Seules les {len(items)} premières des {total} personnes sont listées ; « Tout le portefeuille » '
            f'les transfère toutes.</p>' if total > len(items) else "")
    return ('<div class="table"><table class="caseload"><caption>Personnes suivies : '
            f'{total} personne{"s" if total > 1 else ""}</caption><thead><tr>'
            '<th scope="col">Choisir</th><th scope="col">N° de dossier</th><th scope="col">Personne (historique)</th>'
            f'<th scope="col">Conseiller</th></tr></thead><tbody>{rows}</tbody></table></div>{more}')


def transfers_body(answer: Mapping[str, Any], *, own: str, structures: Mapping[str, str], csrf: str,
                   transfer_id: str, counsellor: str, today: str) -> str:
    items = list(answer.get("items") or [])
    total = int(answer.get("total") or len(items))
    takers = {sid: (f"{name} (votre structure)" if sid == own else name)
              for sid, name in sorted(structures.items(), key=lambda kv: kv[1])}
    whose = f"du conseiller {counsellor}" if counsellor else "de toute la structure"
    hidden = {"transfer_id": transfer_id, "de_conseiller": counsellor, "jour": today}
    fields = "".join(f'<input type="hidden" name="{k}" value="{attr(v)}">' for k, v in hidden.items())
    return (
        '<p>Confiez des personnes que votre structure suit à une autre structure (ou à un autre conseiller), à '
        'partir d\'une date. Chaque personne transférée apparaît dans l\'historique ; ses lignes de la liste de '
        'travail passent à la structure qui reprend le suivi.</p>'
        + _counsellor_filter(counsellor)
        + f'<form method="post" action="/transferts" class="transfer">{csrf_field(csrf)}{fields}'
        f'<fieldset><legend>Personnes à transférer (portefeuille {esc(whose)})</legend>'
        '<p><input type="checkbox" name="tout" value="oui" id="tout">'
        f'<label for="tout">Tout le portefeuille ({total} personne{"s" if total > 1 else ""})</label></p>'
        + _people(items, total) + '</fieldset>'
        '<fieldset><legend>Qui reprend le suivi</legend>'
        '<div class="field"><label for="vers">Structure qui reprend le suivi</label>'
        f'<select id="vers" name="vers" required>{_options(takers, "", placeholder=PICK_STRUCTURE)}'
        '</select></div>'
        '<div class="field"><label for="vers_conseiller">Référence du conseiller qui reprend (facultatif, jamais un '
        'nom)</label><input type="text" id="vers_conseiller" name="vers_conseiller" maxlength="64" '
        'spellcheck="false" autocapitalize="off"></div>'
        '<div class="field"><label for="le">À partir du</label>'
        f'<input type="date" id="le" name="le" value="{attr(today)}" required></div>'
        '<div class="field"><label for="motif">Motif</label>'
        f'<select id="motif" name="motif" required>{_options(TRANSFER_REASONS, "", placeholder=PICK_REASON)}'
        '</select></div>'
        '<div class="field"><label for="note">Note (facultative ; jamais de nom, de coordonnées ni de détail de '
        f'santé)</label><textarea id="note" name="note" maxlength="{NOTE_MAX}" rows="2"></textarea></div>'
        '</fieldset><button type="submit">Transférer</button></form>')
