"""The coordinator's identity reviews: each pending pair side by side, what matched, and a form to decide.

Pure: intake's GET /v1/identity-reviews answer in, HTML out. The identities shown are the ones intake chose to
disclose for the review (and recorded as disclosures); the page keeps none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.web.labels import DECISIONS, MATCHED, MISSING
from services.web.pages.markup import attr, csrf_field, esc, french_date, query

NOT_FOR_OTHERS = ("Les revues d'identité sont décidées par la coordination du territoire : elle seule voit les "
                  "deux identités côte à côte pour dire s'il s'agit d'une même personne.")
DISCLOSURE_NOTICE = ("Cette page montre des identités : chaque identité affichée est enregistrée (qui l'a vue, "
                     "quand et pourquoi) et les auditeurs peuvent le consulter. Ne l'ouvrez que pour décider.")
INTAKE_LIMIT = 50  # GET /v1/identity-reviews' default page: the oldest pending reviews
ROWS = (("last_name", "Nom"), ("first_names", "Prénoms"), ("birth_date", "Date de naissance"),
        ("nir", "NIR"), ("email", "Adresse électronique"), ("phone", "Téléphone"))


def not_offered_body() -> str:
    return f'<p class="notice">{esc(NOT_FOR_OTHERS)}</p>'


def _words(values: object) -> str:
    items = values if isinstance(values, list) else []
    return ", ".join(MATCHED.get(str(v), str(v)) for v in items) or MISSING


def _people(review: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The two people as (id, identity): intake's `shown` when present, else the two ids with no identity."""
    shown = [s for s in review.get("shown") or [] if isinstance(s, Mapping)]
    if shown:
        return [(str(s.get("person_id")), s.get("identity") or {}) for s in shown]
    return [(str(review.get(k)), {}) for k in ("person_id", "other_person_id") if review.get(k)]


def _side_by_side(review: Mapping[str, Any], caption: str) -> str:
    people = _people(review)
    head = "".join(f'<th scope="col">Personne {n}<br><a href="{query("/personnes/" + pid, {})}">{esc(pid)}</a>'
                   f' <span class="hint">(historique)</span></th>' for n, (pid, _) in enumerate(people, 1))
    rows = ""
    for field, text in ROWS:
        values = [identity.get(field) for _, identity in people]
        shown = [french_date(v) if field == "birth_date" and v else esc(v) for v in values]
        rows += f'<tr><th scope="row">{esc(text)}</th>' + "".join(f"<td>{v}</td>" for v in shown) + "</tr>"
    return (f'<table class="identities"><caption>{esc(caption)}</caption><thead><tr><td></td>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def _decision_form(review_id: str, n: int, csrf: str) -> str:
    choices = "".join(f'<input type="radio" name="decision" value="{attr(value)}" id="d{n}-{esc(value)}" required>'
                      f'<label for="d{n}-{esc(value)}">{esc(text)}</label><br>' for value, text in DECISIONS.items())
    return (f'<form method="post" action="/revues" class="decision">{csrf_field(csrf)}'
            f'<input type="hidden" name="review_id" value="{attr(review_id)}">'
            f'<fieldset><legend>Votre décision</legend>{choices}</fieldset>'
            f'<div class="field"><label for="n{n}">Note (facultative, publiée avec la décision : jamais de nom, de '
            f'date de naissance ni de coordonnées)</label><textarea id="n{n}" name="note" maxlength="500" rows="2">'
            '</textarea></div><button type="submit">Enregistrer la décision</button></form>')


def review_section(review: Mapping[str, Any], n: int, csrf: str) -> str:
    review_id = str(review.get("review_id") or "")
    return (f'<section class="review" id="revue-{esc(review_id)}" aria-labelledby="t-{n}">'
            f'<h2 id="t-{n}">Revue {esc(review_id)}</h2>'
            f'<dl class="summary"><dt>Ouverte le</dt><dd>{french_date(review.get("opened_at"))}</dd>'
            f'<dt>Concordent</dt><dd>{esc(_words(review.get("matched")))}</dd>'
            f'<dt>Manque pour trancher</dt><dd>{esc(_words(review.get("missing")))}</dd></dl>'
            + _side_by_side(review, f"Les deux dossiers de la revue {review_id}")
            + _decision_form(review_id, n, csrf) + "</section>")


def reviews_body(answer: Mapping[str, Any], csrf: str) -> str:
    reviews = [r for r in answer.get("items") or [] if isinstance(r, Mapping) and r.get("status", "pending")
               == "pending"]
    intro = ('<p>Deux inscriptions se ressemblent (même date de naissance, noms proches) sans NIR pour les '
             'départager : tant que vous n\'avez pas décidé, les alertes du dossier le plus récent sont '
             'retenues, pour qu\'une même personne ne donne jamais deux alertes.</p>'
             f'<p class="notice">{esc(DISCLOSURE_NOTICE)}</p>')
    if not reviews:
        return intro + "<p>Aucune revue d'identité en attente.</p>"
    count = f'<p>{len(reviews)} revue{"s" if len(reviews) > 1 else ""} en attente.</p>'
    if len(reviews) >= INTAKE_LIMIT:  # intake answers the oldest 50: the others come once these are decided
        count = (f"<p>Les {len(reviews)} revues en attente les plus anciennes ; les suivantes apparaîtront une fois "
                 "celles-ci décidées.</p>")
    return intro + count + "".join(review_section(r, n, csrf) for n, r in enumerate(reviews))
