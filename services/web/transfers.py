"""The transfer routes: GET /transferts shows a structure's caseload and the form, POST /transferts hands the
chosen people over, as one caseload.transferred per person posted to intake with the user's own key.

The caseload is read again from followup when the form comes back, so what moves is what the structure holds
then; the transfer id was drawn when the form was shown, so sending it twice is one transfer (duplicates).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.api import (_csrf_refused, _html, _key_refused, _redirect, _signed_in, _to_signin, deps,
                              form_fields)
from services.web import file_numbers
from services.web.checkin import business_time
from services.web.csrf import FIELD, csrf_ok
from services.web.pages.markup import french_date, query
from services.web.pages.transfers import not_offered_body, transfers_body
from services.web.sessions import Session
from services.web.transfer_event import batches, new_transfer_id, transfer_event
from services.web.transfer_form import REF, TransferForm, TransferRequest, check

router = APIRouter(include_in_schema=False)
TITLE = "Transferts de portefeuille"
SHOWN = 1000  # people listed with a box each (followup's largest page); "tout le portefeuille" takes them all
HELD_MAX_PAGES = 50  # the caseload read back at most 50 000 people, as the CSV download
FORM_LIMIT = 262_144  # a thousand boxes ticked weigh about 25 kB: more than the other forms' 16 kB


def _counsellor(raw: str) -> str:
    value = raw.strip()[:64]
    return value if value and REF.match(value) else ""


def _back(counsellor: str) -> str:
    return query("/transferts", {"conseiller": counsellor}).replace("&amp;", "&")


@router.get("/transferts")
async def transfers_page(request: Request) -> Response:
    started = time.perf_counter()
    session = _signed_in(request)
    if session is None:
        return _to_signin(request)
    if not session.acts_for_a_structure:
        return _html(request, session, TITLE, not_offered_body(auditor=not session.reads_worklists),
                     current="/transferts", status=403, started=started, name="transfers")
    web = deps(request)
    counsellor = _counsellor(request.query_params.get("conseiller", ""))
    params: dict[str, Any] = {"page_size": SHOWN, **({"counsellor": counsellor} if counsellor else {})}
    answer = await web.upstream.caseload(session.token or "", params)
    if answer.status == 401:
        return _key_refused(request, session)
    if not answer.ok:
        session.say("error", answer.problem or "")
        return _html(request, session, TITLE, "", current="/transferts", status=502, started=started,
                     name="transfers")
    # Followup's business day: the default effective date, and the day the transfer is dated on when sent.
    day = await web.upstream.worklist(session.token or "", {"page_size": 1})
    today = str(day.body.get("today") or "") if day.ok and isinstance(day.body, dict) else ""
    items = answer.body.get("items") or [] if isinstance(answer.body, dict) else []
    found = await file_numbers.lookup(web.upstream, session.token or "", (i.get("person_id") for i in items))
    if found is None and items:
        session.say("error", file_numbers.UNAVAILABLE_NOTICE)
    # Unavailable: each person is named by their id, as the page does for anyone without a number.
    held = {**answer.body, "items": file_numbers.with_numbers(items, found)} if found is not None else answer.body
    body = transfers_body(held, own=session.structure or "", structures=web.structures, csrf=session.csrf,
                          transfer_id=new_transfer_id("tr-web"), counsellor=counsellor, today=today)
    return _html(request, session, TITLE, body, current="/transferts", started=started, name="transfers")


async def _held(request: Request, session: Session, counsellor: str | None) -> list[str] | Response:
    """Everyone the structure (or the counsellor) holds now, read again from followup."""
    web, people = deps(request), []
    params: dict[str, Any] = {"page_size": SHOWN, **({"counsellor": counsellor} if counsellor else {})}
    for page_number in range(1, HELD_MAX_PAGES + 1):
        answer = await web.upstream.caseload(session.token or "", {**params, "page": page_number})
        if answer.status == 401:
            return _key_refused(request, session)
        if not answer.ok:
            session.say("error", f"Transfert impossible pour le moment : {answer.problem}")
            return _redirect(request, session, _back(counsellor or ""))
        people += [str(item.get("person_id")) for item in answer.body.get("items") or []]
        if page_number * SHOWN >= int(answer.body.get("total") or 0):
            break
    return list(dict.fromkeys(people))


@router.post("/transferts")
async def transfer(request: Request) -> Response:
    web, session = deps(request), _signed_in(request)
    fields = await form_fields(request, FORM_LIMIT)
    if session is None or not csrf_ok(session.csrf, dict(fields).get(FIELD)):
        return _csrf_refused(request, session)
    if not session.acts_for_a_structure:
        session.say("error", "Votre clé ne permet pas de transférer un portefeuille ; rien n'a été envoyé.")
        return _redirect(request, session, "/transferts")
    form = TransferForm.of(fields)
    counsellor = _counsellor(form.from_counsellor)
    held = await _held(request, session, counsellor or None)
    if isinstance(held, Response):
        return held
    request_or_problems = check(form, session.structure or "", web.structures, held)
    if isinstance(request_or_problems, list):
        web.metrics.transfers.labels("invalid").inc()
        for problem in request_or_problems:
            session.say("error", problem)
        return _redirect(request, session, _back(counsellor))
    outcome = await _send(request, session, request_or_problems, dict(fields).get("jour", ""))
    return outcome or _redirect(request, session, _back(counsellor))


async def _send(request: Request, session: Session, asked: TransferRequest, day: str) -> Response | None:
    """Posts the events in batches; says in French what intake did. A Response only when the key is refused."""
    web, structure = deps(request), session.structure or ""
    sent_at = business_time(day, datetime.now(UTC), web.zone)
    events = [transfer_event(asked.transfer_id, person, structure, asked.from_counsellor, asked.to_structure,
                             asked.to_counsellor, asked.effective_on, asked.reason, asked.note, sent_at)
              for person in asked.people]
    tally = {"accepted": 0, "duplicate": 0}
    refused: list[str] = []
    for body in batches(events):
        answer = await web.upstream.send_events(session.token or "", body)
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if answer.status == 401:
            return _key_refused(request, session)
        if not isinstance(results, list):  # 403, 413, 5xx: nothing of this batch was taken
            web.metrics.transfers.labels("failed").inc()
            session.say("error", _stopped(tally, answer.problem or ""))
            return None
        for result in results:
            status = result.get("status")
            if status in tally:
                tally[status] += 1
            else:
                refused.append(f"{result.get('id')} : {result.get('detail') or result.get('reason') or status}")
    done = tally["accepted"] + tally["duplicate"]
    if done:
        web.metrics.transfers.labels("sent").inc()
        session.say("ok", confirmation(done, web.structures.get(asked.to_structure, asked.to_structure),
                                       asked.to_counsellor, asked.effective_on, tally["duplicate"]))
    if refused:
        web.metrics.transfers.labels("refused").inc()
        session.say("error", f"{len(refused)} transfert{'s' if len(refused) > 1 else ''} refusé"
                    f"{'s' if len(refused) > 1 else ''} par le service d'accueil des événements : "
                    + " ; ".join(refused[:10]) + ("…" if len(refused) > 10 else ""))
    return None


def confirmation(n: int, to_name: str, to_counsellor: str | None, on: date, duplicates: int) -> str:
    who = f"{to_name} (conseiller {to_counsellor})" if to_counsellor else to_name
    said = (f"{n} personne{'s' if n > 1 else ''} transférée{'s' if n > 1 else ''} à {who} à partir du "
            f"{french_date(on.isoformat())}.")
    if duplicates:
        said += (f" Ce transfert avait déjà été envoyé pour {duplicates} d'entre elles : il n'est compté "
                 "qu'une fois.")
    return said


def _stopped(tally: dict[str, int], problem: str) -> str:
    done = tally["accepted"] + tally["duplicate"]
    before = (f" Les {done} premières personnes ont bien été transférées ; les autres sont toujours dans le "
              "portefeuille : recommencez pour elles." if done else " Rien n'a été transféré.")
    return f"Le transfert s'est interrompu : {problem}{before}"
