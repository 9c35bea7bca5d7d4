"""The page's routes: sign in and out, the worklist (and its CSV), a person's timeline, the dashboard, and the
check-in answers. Each route reads its session, calls a service with the user's key, and renders.

Forms are read with the standard library (urlencoded bodies only): no multipart parser is needed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import file_numbers
from services.web.checkin import CheckinForm, checkin_event
from services.web.csrf import FIELD, csrf_ok
from services.web.pages.dashboard import dashboard_body
from services.web.pages.layout import page
from services.web.pages.refused import DASHBOARD_NOT_FOR_A_STRUCTURE, WORKLIST_NOT_FOR_AN_AUDITOR, refused_body
from services.web.pages.signin import signin_body
from services.web.pages.timeline import timeline_body
from services.web.pages.worklist import WorklistQuery, worklist_body
from services.web.sessions import COOKIE, Session

if TYPE_CHECKING:
    from services.web.app import WebDeps

router = APIRouter(include_in_schema=False)
STYLESHEET = Path(__file__).with_name("static") / "ariane.css"
CSV_PAGE = 1000  # followup's largest page
CSV_MAX_PAGES = 50  # a download stops at 50 000 lines rather than hold the process for ever

# The page loads its own stylesheet and nothing else: no script, no frame, no foreign origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # people's situations must not linger in a shared computer's cache
}


def deps(request: Request) -> WebDeps:
    return request.app.state.ctx.deps


def session_of(request: Request) -> Session | None:
    return deps(request).sessions.get(request.cookies.get(COOKIE), time.monotonic())


def _with_cookie(response: Response, request: Request, session: Session) -> Response:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/",
                        secure=deps(request).settings.cookie_secure)
    response.headers.update(SECURITY_HEADERS)
    return response


def _html(request: Request, session: Session, title: str, body: str, *, current: str = "", status: int = 200,
          started: float, name: str) -> Response:
    web = deps(request)
    web.metrics.page_seconds.labels(name).observe(time.perf_counter() - started)
    web.metrics.pages.labels(name, str(status)).inc()
    web.metrics.sessions.set(len(web.sessions))
    html = page(title, body, session=session, current=current, messages=session.take_flash())
    return _with_cookie(HTMLResponse(html, status_code=status), request, session)


def _redirect(request: Request, session: Session, to: str) -> Response:
    return _with_cookie(RedirectResponse(to, status_code=303), request, session)


def _to_signin(request: Request, message: str | None = None) -> Response:
    session = deps(request).sessions.new(time.monotonic())
    if message:
        session.say("error", message)
    return _redirect(request, session, "/connexion")


async def form_fields(request: Request, limit: int = 16_384) -> list[tuple[str, str]]:
    """Every (name, value) of an urlencoded form, in order (a field may repeat: the transfer form's boxes)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return []
    body = await request.body()
    if len(body) > limit:
        return []
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


async def _form(request: Request) -> dict[str, str]:
    return dict(await form_fields(request))


def _csrf_refused(request: Request, session: Session | None) -> Response:
    # Expired or forged: nothing was done; a fresh form is one click away.
    if session is None:
        return _to_signin(request, "Votre session a expiré ; reconnectez-vous.")
    session.say("error", "Le formulaire a expiré ou ne vient pas de cette page ; rien n'a été enregistré. "
                "Réessayez.")
    return _redirect(request, session, "/liste" if session.signed_in else "/connexion")


@router.get("/")
async def home(request: Request) -> Response:
    session = session_of(request)
    if session is None or not session.signed_in:
        return _to_signin(request)
    return _redirect(request, session, "/liste")


@router.get("/static/ariane.css")
async def stylesheet() -> Response:
    return Response(STYLESHEET.read_bytes(), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})


@router.get("/connexion")
async def signin_page(request: Request) -> Response:
    started = time.perf_counter()
    session = session_of(request) or deps(request).sessions.new(time.monotonic())
    if session.signed_in:
        return _redirect(request, session, "/liste")
    return _html(request, session, "Connexion", signin_body(session.csrf), started=started, name="signin")


@router.post("/connexion")
async def signin(request: Request) -> Response:
    started = time.perf_counter()
    web, session, form = deps(request), session_of(request), await _form(request)
    if session is None or not csrf_ok(session.csrf, form.get(FIELD)):
        return _csrf_refused(request, session)
    token = form.get("token", "").strip()
    if not token:
        session.say("error", "Saisissez votre clé d'accès.")
        return _html(request, session, "Connexion", signin_body(session.csrf), status=400, started=started,
                     name="signin")
    # The page does not judge the key itself: followup does, as it will for every page after this one.
    answer = await web.upstream.worklist(token, {"page_size": 1})
    if answer.status == 403:
        # Followup refuses worklists to an auditor's key alone: a valid key, which reads reports and timelines.
        signed = web.sessions.sign_in(session, token, None, sees_everyone=True, now=time.monotonic(),
                                      reads_worklists=False)
        web.metrics.signins.labels("ok").inc()
        return _redirect(request, signed, "/tableau")
    if not answer.ok:
        web.metrics.signins.labels("refused" if answer.status == 401 else "failed").inc()
        session.say("error", "Clé d'accès refusée : vérifiez-la et réessayez." if answer.status == 401
                    else answer.problem or "")
        return _html(request, session, "Connexion", signin_body(session.csrf), status=401 if answer.status == 401
                     else 503, started=started, name="signin")
    structure = answer.body.get("structure") if isinstance(answer.body, dict) else None
    # Followup answers a structure's key with that structure's worklist, and the coordinator's with everyone's.
    signed = web.sessions.sign_in(session, token, structure, sees_everyone=structure is None, now=time.monotonic())
    web.metrics.signins.labels("ok").inc()
    return _redirect(request, signed, "/liste")


@router.post("/deconnexion")
async def signout(request: Request) -> Response:
    web, session, form = deps(request), session_of(request), await _form(request)
    if session is None or not csrf_ok(session.csrf, form.get(FIELD)):
        return _csrf_refused(request, session)
    web.sessions.drop(session)
    fresh = web.sessions.new(time.monotonic())
    fresh.say("info", "Vous êtes déconnecté.")
    return _redirect(request, fresh, "/connexion")


def _signed_in(request: Request) -> Session | None:
    session = session_of(request)
    return session if session is not None and session.signed_in else None


def _key_refused(request: Request, session: Session) -> Response:
    """Followup no longer takes the key (revoked, expired): the session ends, the user signs in again."""
    deps(request).sessions.drop(session)
    return _to_signin(request, "Votre clé d'accès n'est plus acceptée ; reconnectez-vous.")


@router.get("/liste")
async def worklist_page(request: Request) -> Response:
    started = time.perf_counter()
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    query = WorklistQuery.parse(request.query_params)
    upstream, token = deps(request).upstream, session.token or ""
    params = {**query.upstream(), **({"q": await file_numbers.person_searched(upstream, token, query.q)}
                                     if query.q else {})}
    answer = await upstream.worklist(token, params)
    if answer.status == 401:
        return _key_refused(request, session)
    if answer.status == 403:
        return _html(request, session, "Liste de travail", refused_body(WORKLIST_NOT_FOR_AN_AUDITOR),
                     current="/liste", status=403, started=started, name="worklist")
    if not answer.ok:
        session.say("error", answer.problem or "")
        return _html(request, session, "Liste de travail", "", current="/liste", status=502, started=started,
                     name="worklist")
    items = answer.body.get("items") or [] if isinstance(answer.body, dict) else []
    found = await file_numbers.lookup(upstream, token, (i.get("person_id") for i in items))
    if found is None and items:
        session.say("error", file_numbers.UNAVAILABLE_NOTICE)
    body = worklist_body({**answer.body, "items": file_numbers.with_numbers(items, found)}, query,
                         csrf=session.csrf, sees_everyone=session.sees_everyone, names=deps(request).names)
    return _html(request, session, "Liste de travail", body, current="/liste", started=started, name="worklist")


@router.get("/liste.csv")
async def worklist_csv(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    query = WorklistQuery.parse(request.query_params)
    upstream, token = deps(request).upstream, session.token or ""
    searched = {"q": await file_numbers.person_searched(upstream, token, query.q)} if query.q else {}
    chunks: list[bytes] = []
    for page_number in range(1, CSV_MAX_PAGES + 1):
        params = {**query.upstream(), **searched, "page": page_number, "page_size": CSV_PAGE}
        answer = await upstream.worklist_csv_page(token, params)
        if answer.status == 401:
            return _key_refused(request, session)
        if answer.status == 403:
            return _html(request, session, "Liste de travail", refused_body(WORKLIST_NOT_FOR_AN_AUDITOR),
                         current="/liste", status=403, started=time.perf_counter(), name="worklist_csv")
        if not answer.ok:
            session.say("error", f"Téléchargement impossible : {answer.problem}")
            return _redirect(request, session, "/liste")
        lines = (await file_numbers.csv_with_numbers(upstream, token, answer.body)).splitlines(keepends=True)
        chunks += lines if page_number == 1 else lines[1:]  # one header line, at the top
        if len(lines) - 1 < CSV_PAGE:
            break
    return Response(b"".join(chunks), media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="liste-de-travail.csv"'})


TIMELINE_404 = {
    "Not Found": "Le service de suivi ne propose pas encore l'historique d'une personne.",
}


@router.get("/personnes/{person_id}")
async def timeline_page(request: Request, person_id: str) -> Response:
    started = time.perf_counter()
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    answer = await deps(request).upstream.timeline(session.token or "", person_id)
    if answer.status == 401:
        return _key_refused(request, session)
    if not answer.ok:
        if answer.status == 404:
            # Followup's own reason, in French: an unknown person, or (an older followup) no timeline at all.
            detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
            session.say("error", TIMELINE_404.get(str(detail),
                                                  "Le service de suivi ne connaît aucune personne sous cet "
                                                  "identifiant."))
        else:
            session.say("error", answer.problem or "")
        return _html(request, session, "Historique d'une personne", '<p><a href="/liste">Retour à la liste</a></p>',
                     status=answer.status if answer.status in (403, 404) else 502, started=started, name="timeline")
    body = '<p><a href="/liste">Retour à la liste</a></p>' + timeline_body(
        await _timeline_numbers(request, session, answer.body), deps(request).names)
    return _html(request, session, "Historique d'une personne", body, started=started, name="timeline")


async def _timeline_numbers(request: Request, session: Session, answer: Any) -> Any:
    """Followup's timeline with the user's structure's own number for the person and on its lines, from intake
    (the coordinator, of no structure, has none of its own: its lines carry each structure's)."""
    if not isinstance(answer, dict) or not session.reads_worklists:
        return answer  # an auditor reads no file number: followup showed it none either
    lines = answer.get("worklist") or []
    found = await file_numbers.lookup(deps(request).upstream, session.token or "", [answer.get("person_id")])
    if found is None:
        session.say("error", file_numbers.UNAVAILABLE_NOTICE)
    own = None if session.sees_everyone else file_numbers.with_numbers(
        [{"person_id": answer.get("person_id"), "structure_id": session.structure,
          "file_number": answer.get("file_number")}], found)[0]["file_number"]
    return {**answer, "file_number": own, "worklist": file_numbers.with_numbers(lines, found)}


@router.get("/tableau")
async def dashboard_page(request: Request) -> Response:
    started = time.perf_counter()
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    answer = await deps(request).upstream.report(session.token or "")
    if answer.status == 401:
        return _key_refused(request, session)
    if answer.status == 403:
        return _html(request, session, "Tableau de bord du territoire", refused_body(DASHBOARD_NOT_FOR_A_STRUCTURE),
                     current="/tableau", status=403, started=started, name="dashboard")
    if not answer.ok:
        session.say("error", answer.problem or "")
        return _html(request, session, "Tableau de bord du territoire", "", current="/tableau", status=502,
                     started=started, name="dashboard")
    return _html(request, session, "Tableau de bord du territoire", dashboard_body(answer.body), current="/tableau",
                 started=started, name="dashboard")


def _back(form: Mapping[str, str]) -> str:
    # Only back to the worklist itself: the field comes from the browser and must not send anyone elsewhere.
    back = form.get("back", "")
    return back if back.startswith("/liste") and "//" not in back and "\\" not in back else "/liste"


@router.post("/reponses")
async def answer_checkin(request: Request) -> Response:
    web, session, form = deps(request), _signed_in(request), await _form(request)
    if session is None or not csrf_ok(session.csrf, form.get(FIELD)):
        return _csrf_refused(request, session)
    fields = CheckinForm(**{name: form.get(name, "").strip() for name in CheckinForm.__dataclass_fields__})
    event = checkin_event(fields, datetime.now(UTC), web.zone)
    if isinstance(event, str):
        web.metrics.answers.labels("invalid").inc()
        session.say("error", event)
        return _redirect(request, session, _back(form))
    answer = await web.upstream.send_event(session.token or "", event.to_json_bytes())
    results = answer.body.get("results", []) if answer.ok and isinstance(answer.body, dict) else []
    status = results[0].get("status") if results else None
    if answer.ok and status in ("accepted", "duplicate"):
        web.metrics.answers.labels(status).inc()
        session.say("ok", "Réponse enregistrée : la ligne quittera la liste dès que le suivi l'aura prise en compte.")
    elif answer.status == 401:
        web.metrics.answers.labels("refused").inc()
        session.say("error", "Le service d'accueil des événements n'accepte pas votre clé pour enregistrer une "
                    "réponse ; rien n'a été enregistré.")
    elif answer.status == 403:
        web.metrics.answers.labels("refused").inc()
        session.say("error", "Votre clé ne permet pas de répondre pour cette structure ; rien n'a été enregistré.")
    else:
        web.metrics.answers.labels("failed").inc()
        refused = answer.body.get("results") if isinstance(answer.body, dict) else None
        reason = (refused[0].get("detail") or refused[0].get("reason")) if refused else None
        session.say("error", "La réponse n'a pas été enregistrée : "
                    + (f"refusée par le service d'accueil ({reason})." if reason else (answer.problem or "")))
    return _redirect(request, session, _back(form))
