"""The worklist page: filters, the table of followup's lines, pagination, the CSV link, check-in answers.

Pure: followup's JSON answer and the query in, HTML out. Every field of a line may be missing (a followup
older or newer than this page): it shows as a dash, never as an error.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from services.web.labels import CHECKIN_KINDS, KINDS, MISSING, OUTCOMES, SORTS, label
from services.web.pages.markup import attr, csrf_field, esc, french_date, query

PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class WorklistQuery:
    kind: str = ""
    q: str = ""
    sort: str = "urgency"
    page: int = 1
    page_size: int = 50
    structure: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> WorklistQuery:
        """The page's query string, anything unexpected replaced by its default (never a 500 for a bad link)."""
        def number(name: str, default: int) -> int:
            raw = params.get(name, "")
            return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else default

        size = number("page_size", 50)
        return cls(kind=params.get("kind", "") if params.get("kind", "") in KINDS else "",
                   q=params.get("q", "").strip()[:128],
                   sort=params.get("sort", "urgency") if params.get("sort") in SORTS else "urgency",
                   page=number("page", 1), page_size=size if size in PAGE_SIZES else 50,
                   structure=params.get("structure", "").strip()[:64])

    def params(self, **changes: Any) -> dict[str, Any]:
        """This query as link parameters (defaults left out), with `changes` applied."""
        values = {**asdict(self), **changes}
        defaults = asdict(WorklistQuery())
        return {k: v for k, v in values.items() if v != defaults[k]}

    def upstream(self) -> dict[str, Any]:
        """The same query for followup's GET /v1/worklist."""
        params: dict[str, Any] = {"sort": self.sort, "page": self.page, "page_size": self.page_size}
        for name in ("kind", "q", "structure"):
            if getattr(self, name):
                params[name] = getattr(self, name)
        return params


def _structure(structure_id: object, names: Mapping[str, str]) -> str:
    if not structure_id:
        return MISSING
    name = names.get(str(structure_id))
    return f'<span title="{esc(structure_id)}">{esc(name)}</span>' if name else esc(structure_id)


def checkin_form(item: Mapping[str, Any], n: int, csrf: str, day: str, back: str) -> str:
    """The "answer the check-in" form of line `n`: reached yes or no, and the situation found."""
    options = '<option value="">— (non jointe, ou inconnue)</option>' + "".join(
        f'<option value="{esc(value)}">{esc(text)}</option>' for value, text in OUTCOMES.items())
    hidden = {"event_id": f"web-{uuid.uuid4()}", "person_id": item.get("person_id"),
              "structure_id": item.get("structure_id"), "checkin_id": item.get("answer_id"), "day": day,
              "back": back}
    fields = "".join(f'<input type="hidden" name="{name}" value="{attr(value)}">' for name, value in hidden.items())
    return (f'<details><summary>Répondre au suivi</summary>'
            f'<form method="post" action="/reponses" class="checkin">{csrf_field(csrf)}{fields}'
            f'<fieldset><legend>La personne a-t-elle été jointe ?</legend>'
            f'<input type="radio" name="reached" value="oui" id="r{n}-oui" required>'
            f'<label for="r{n}-oui">Oui</label> '
            f'<input type="radio" name="reached" value="non" id="r{n}-non">'
            f'<label for="r{n}-non">Non</label></fieldset>'
            f'<label for="s{n}">Situation</label><select name="situation" id="s{n}">{options}</select>'
            f'<button type="submit">Enregistrer la réponse</button></form></details>')


def review_link(review_id: object) -> str:
    """The review's form on the reviews page (its anchor is the review id, escaped like any attribute)."""
    return f"/revues#revue-{esc(review_id)}"


def worklist_line(item: Mapping[str, Any], n: int, *, csrf: str, day: str, back: str,
                  names: Mapping[str, str]) -> str:
    """One table row. The person cell heads the row and links to the person's timeline page."""
    person = item.get("person_id")
    who = (f'<a href="{query("/personnes/" + str(person), {})}">{esc(person)}</a>' if person else MISSING)
    days = item.get("days")
    answerable = item.get("kind") in CHECKIN_KINDS and item.get("answer_id") and person
    action = checkin_form(item, n, csrf, day, back) if answerable else ""
    if item.get("kind") == "identity_review" and item.get("answer_id"):
        # The review's id is the line's id to answer: the coordinator decides it on the reviews page.
        action = f' <a href="{review_link(item["answer_id"])}">Décider de cette revue</a>'
    
    return (f'<tr><th scope="row">{who}</th><td>{esc(item.get("file_number"))}</td>'
            f'<td>{_structure(item.get("structure_id"), names)}</td>'
            f'<td><span class="kind {esc(item.get("kind") or "")}">{esc(label(KINDS, item.get("kind")))}</span></td>'
            f'<td>{esc(item.get("reason"))}</td><td>{esc(item.get("expected"))}</td>'
            f'<td>{french_date(item.get("since"))}</td><td class="number">{esc(days if days is not None else "")}</td>'
            f'<td>{esc(item.get("answer_id"))}{action}</td></tr>')


HEADERS = ("Personne (historique)", "N° de dossier", "Structure", "Motif", "Raison", "Attendu", "Depuis", "Jours",
           "Référence à répondre")


def _select(name: str, text: str, options: Mapping[str, str], chosen: str) -> str:
    opts = "".join(f'<option value="{attr(value)}"{" selected" if value == chosen else ""}>{esc(label_)}</option>'
                   for value, label_ in options.items())
    return f'<div class="field"><label for="f-{name}">{esc(text)}</label><select id="f-{name}" name="{name}">{opts}</select></div>'


def filters(q: WorklistQuery, *, sees_everyone: bool, names: Mapping[str, str]) -> str:
    structure = (_select("structure", "Structure", {"": "Toutes", **dict(sorted(names.items(), key=lambda kv: kv[1]))},
                         q.structure) if sees_everyone else "")
    return ('<form method="get" action="/liste" class="filters" role="search" aria-label="Filtrer la liste">'
            + _select("kind", "Motif", {"": "Tous", **KINDS}, q.kind)
            + '<div class="field"><label for="f-q">Recherche (n° de dossier, référence, début d\'identifiant)</label>'
            f'<input type="search" id="f-q" name="q" value="{esc(q.q) if q.q else ""}" maxlength="128"></div>'
            + structure + _select("sort", "Tri", SORTS, q.sort)
            + _select("page_size", "Lignes par page", {str(s): str(s) for s in PAGE_SIZES}, str(q.page_size))
            + '<button type="submit">Filtrer</button></form>')


def pagination(q: WorklistQuery, total: int) -> str:
    pages = max(1, math.ceil(total / q.page_size))
    prev = (f'<a href="{query("/liste", q.params(page=q.page - 1))}" rel="prev">Page précédente</a>'
            if q.page > 1 else "")
    nxt = (f'<a href="{query("/liste", q.params(page=q.page + 1))}" rel="next">Page suivante</a>'
           if q.page < pages else "")
    return (f'<nav class="pages" aria-label="Pagination">{prev}<span>Page {min(q.page, pages)} sur {pages}</span>'
            f'{nxt}</nav>')


def worklist_body(answer: Mapping[str, Any], q: WorklistQuery, *, csrf: str, sees_everyone: bool,
                  names: Mapping[str, str]) -> str:
    items = answer.get("items") or []
    total = int(answer.get("total") or len(items))
    day = str(answer.get("today") or "")
    back = query("/liste", q.params()).replace("&amp;", "&")  # a plain value: esc() is applied by the form
    csv_link = query("/liste.csv", {k: v for k, v in q.params().items() if k not in ("page", "page_size")})
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in HEADERS)
    rows = "".join(worklist_line(item, n, csrf=csrf, day=day, back=back, names=names)
                   for n, item in enumerate(items))
    if not items:
        rows = f'<tr><td colspan="{len(HEADERS)}">Aucune ligne ne correspond à ces critères.</td></tr>'
    caption = f"Liste de travail au {french_date(day)} : {total} ligne{'s' if total > 1 else ''}"
    return (filters(q, sees_everyone=sees_everyone, names=names)
            + f'<p class="download"><a href="{csv_link}" download>Télécharger la liste (CSV)</a></p>'
            + f'<div class="table"><table class="worklist"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table></div>' + pagination(q, total))
