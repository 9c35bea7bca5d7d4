"""The identity review routes (the coordinator): GET /revues lists intake's pending reviews, POST /revues sends
one decision to intake's POST /v1/identity-reviews/{review_id}/decision with the coordinator's own key.

Intake decides who may see and decide reviews; the page only spares other users a page that would be refused.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.api import _csrf_refused, _form, _html, _key_refused, _redirect, _signed_in, _to_signin, deps
from services.web.csrf import FIELD, csrf_ok
from services.web.labels import DECISIONS
from services.web.pages.reviews import not_offered_body, reviews_body
from services.web.sessions import Session
from services.web.upstream import Answer

router = APIRouter(include_in_schema=False)
TITLE = "Revues d'identité"


def _coordinator(session: Session) -> bool:
    return session.sees_everyone and session.reads_worklists


@router.get("/revues")
async def reviews_page(request: Request) -> Response:
    started = time.perf_counter()
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    if not _coordinator(session):
        return _html(request, session, TITLE, not_offered_body(), current="/revues", status=403, started=started,
                     name="reviews")
    answer = await deps(request).upstream.identity_reviews(session.token or "")
    if answer.status == 401:
        return _key_refused(request, session)
    if not answer.ok:
        session.say("error", "Le service d'accueil ne propose pas encore les revues d'identité."
                    if answer.status in (404, 405) else answer.problem or "")
        return _html(request, session, TITLE, "", current="/revues", status=502, started=started, name="reviews")
    return _html(request, session, TITLE, reviews_body(answer.body, session.csrf), current="/revues",
                 started=started, name="reviews")


@router.post("/revues")
async def decide(request: Request) -> Response:
    web, session, form = deps(request), _signed_in(request), await _form(request)
    if session is None or not csrf_ok(session.csrf, form.get(FIELD)):
        return _csrf_refused(request, session)
    review_id, decision, note = (form.get(k, "").strip() for k in ("review_id", "decision", "note"))
    if not _coordinator(session):
        session.say("error", "Seule la coordination du territoire décide des revues d'identité ; rien n'a été "
                    "enregistré.")
        return _redirect(request, session, "/liste")
    if decision not in DECISIONS or not review_id or len(note) > 500:
        web.metrics.decisions.labels("invalid").inc()
        session.say("error", "Choisissez « même personne » ou « deux personnes différentes » (note : 500 "
                    "caractères au plus) ; rien n'a été enregistré.")
        return _redirect(request, session, "/revues")
    answer = await web.upstream.decide_review(session.token or "", review_id, decision, note or None)
    if answer.status == 401:
        return _key_refused(request, session)
    web.metrics.decisions.labels("ok" if answer.ok else str(answer.status)).inc()
    kind, said = said_about(answer, review_id)
    session.say(kind, said)
    return _redirect(request, session, "/revues")


def said_about(answer: Answer, review_id: str) -> tuple[str, str]:
    """What to tell the coordinator about intake's answer to a decision, in French."""
    if answer.ok:
        body = answer.body if isinstance(answer.body, dict) else {}
        if body.get("decision") == "same_person":
            kept = body.get("kept_person_id")
            return "ok", (f"Décision enregistrée pour la revue {review_id} : même personne ; les deux dossiers sont "
                          f"réunis{f' sous {kept}' if kept else ''}.")
        return "ok", (f"Décision enregistrée pour la revue {review_id} : deux personnes différentes ; les alertes "
                      "retenues reprennent leur cours.")
    if answer.status == 409:
        return "error", (f"La revue {review_id} a déjà été décidée (ou ces deux dossiers ne peuvent être une "
                         "même personne) ; rien n'a été changé.")
    if answer.status == 404:
        return "error", f"La revue {review_id} est inconnue du service d'accueil ; rien n'a été enregistré."
    if answer.status == 422:
        return "error", ("La note est publiée avec la décision et ne doit contenir aucune donnée personnelle (nom, "
                         "date de naissance, coordonnées, numéro) ; rien n'a été enregistré.")
    return "error", f"La décision n'a pas été enregistrée : {answer.problem}"
