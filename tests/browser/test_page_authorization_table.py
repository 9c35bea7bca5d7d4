"""Who may open which page: every cell of the page × caller table, asked of the real page on the real services.

The page never judges a key itself; it calls the services with the user's key. So this table is the
authorization table of the APIs (tests/integration/test_authorization_table.py) as a user meets it: a page a
caller may not read answers 403 with a French sentence saying so, never a 502 "service unavailable"; a
caller without a session is sent to sign in; a key revoked while signed in ends the session at the next page.

No browser is needed to read status codes: an HTTP client with a cookie jar signs in through the same form.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from local.pipeline import LocalPipeline
from services.runtime.credentials import CredentialsBook, split_token
from tests.browser.helpers import api_worklist, eventually, post_events, registration

# store_independent: the page keeps no store; the services behind it answer the same APIs on both stores,
# which their integration tests check on each.
pytestmark = [pytest.mark.kafka, pytest.mark.store_independent, pytest.mark.timeout(600)]

HOLDER = "mission_locale_angevine"
OTHER = "france_travail_angers_centre"
SIGN_IN = "redirect to sign-in"

# The pages, by what a user calls them; {held} is a person the Mission locale registered, {stranger} one it never had
# to do with.
PAGES = {
    "worklist": "/liste",
    "worklist CSV": "/liste.csv",
    "timeline of a person held": "/personnes/{held}",
    "timeline of a stranger": "/personnes/{stranger}",
    "dashboard": "/tableau",
    "caseload transfers": "/transferts",
    "identity reviews": "/revues",
}

# What each caller must get, written from who they are (not from the code): the coordinator reads everything
# but transfers no caseload of their own; an auditor reads figures and timelines, never a worklist, and acts on
# nothing; a structure's counsellor reads their structure's worklist and the people it had to do with, transfers
# its caseload, and reads neither the territory's dashboard nor identity reviews.
TABLE = {
    "coordinator": {"worklist": 200, "worklist CSV": 200, "timeline of a person held": 200,
                    "timeline of a stranger": 200, "dashboard": 200, "caseload transfers": 403,
                    "identity reviews": 200},
    "auditor": {"worklist": 403, "worklist CSV": 403, "timeline of a person held": 200,
                "timeline of a stranger": 200, "dashboard": 200, "caseload transfers": 403,
                "identity reviews": 403},
    "counsellor of the holder": {"worklist": 200, "worklist CSV": 200, "timeline of a person held": 200,
                                 "timeline of a stranger": 403, "dashboard": 403, "caseload transfers": 200,
                                 "identity reviews": 403},
    "counsellor of another structure": {"worklist": 200, "worklist CSV": 200, "timeline of a person held": 403,
                                        "timeline of a stranger": 200, "dashboard": 403,
                                        "caseload transfers": 200, "identity reviews": 403},
    "nobody signed in": {name: SIGN_IN for name in PAGES},
}


def _people(pipeline: LocalPipeline) -> tuple[str, str]:
    """A person the Mission locale registers today, and one France Travail registers today, whom the Mission
    locale never had to do with. Registered here, not picked from the simulated year: other tests
    transfer and answer people of their own."""
    coordinator = pipeline.coordinator_token
    today = api_worklist(pipeline, coordinator)["today"]
    tag = uuid.uuid4().hex[:6]  # unique to this run: nobody simulated is near these identities

    def register(structure: str, last_name: str, born: str) -> dict:
        identity = {"last_name": last_name, "first_names": f"Table{tag}", "birth_date": born}
        event = registration(structure, today, identity, f"TBL-{tag}-{born}")
        # Aged as born: at 38 the stranger is never oriented to the Mission locale (16 to 25 year olds).
        event["data"]["birth_year"] = int(born[:4])
        (answer,) = post_events(pipeline, structure, [event])
        assert answer["status"] == "accepted", answer
        return answer

    held, stranger = register(HOLDER, "Lemoal", "2004-02-11"), register(OTHER, "Quéré", "1988-09-30")
    for answer in (held, stranger):
        eventually("followup knows the person registered", lambda a=answer: httpx.get(
            f"{pipeline.url('followup')}/v1/people/{a['person_id']}/timeline",
            headers={"authorization": f"Bearer {coordinator}"}, timeout=30).status_code == 200)
    return held["person_id"], stranger["person_id"]


@contextmanager
def _signed_in(pipeline: LocalPipeline, token: str | None) -> Iterator[httpx.Client]:
    """A browser's worth of HTTP: a cookie jar, signed in through the page's own form (or not at all)."""
    with httpx.Client(base_url=pipeline.url("web"), timeout=60, follow_redirects=False) as client:
        if token is not None:
            _sign_in(client, token)
        yield client


def _sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/connexion")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, "the sign-in form carries no anti-forgery field"
    answer = client.post("/connexion", data={"csrf": csrf.group(1), "token": token})
    assert answer.status_code == 303 and answer.headers["location"] in ("/liste", "/tableau"), answer.text


def _outcome(answer: httpx.Response) -> int | str:
    if answer.status_code == 303 and answer.headers["location"] == "/connexion":
        return SIGN_IN
    return answer.status_code


def test_every_caller_gets_exactly_the_pages_their_role_allows(pipeline: LocalPipeline) -> None:
    held, stranger = _people(pipeline)
    callers = {
        "coordinator": pipeline.coordinator_token,
        "auditor": pipeline.issue_key("auditor", "angers-loire-metropole"),
        "counsellor of the holder": pipeline.issue_key("counsellor", HOLDER, counsellor="table-ml"),
        "counsellor of another structure": pipeline.issue_key("counsellor", OTHER, counsellor="table-ft"),
        "nobody signed in": None,
    }
    differences = []
    for caller, token in callers.items():
        with _signed_in(pipeline, token) as client:
            for name, path in PAGES.items():
                answer = client.get(path.format(held=held, stranger=stranger))
                got, expected = _outcome(answer), TABLE[caller][name]
                if got != expected:
                    differences.append(f"{caller} × {name}: {got}, expected {expected}")
                if got == 403:
                    # Refused in words, on a page of its own: never a blank page, never the service's raw answer.
                    assert 'lang="fr"' in answer.text and "<main" in answer.text, (caller, name)
    assert not differences, "\n".join(differences)


def test_a_key_revoked_while_signed_in_ends_the_session_at_the_next_page(pipeline: LocalPipeline) -> None:
    token = pipeline.issue_key("counsellor", HOLDER, counsellor="table-revoked")
    with _signed_in(pipeline, token) as client:
        assert client.get("/liste").status_code == 200
        key_id, _secret = split_token(token)
        assert CredentialsBook(pipeline.credentials_file).revoke(key_id) is not None
        answer = client.get("/liste")
        assert _outcome(answer) == SIGN_IN
        signin = client.get("/connexion")
        assert "n&#x27;est plus acceptée" in signin.text or "n'est plus acceptée" in signin.text
        # The session is gone: the next page asks to sign in again, it does not come back with the old key.
        assert _outcome(client.get("/transferts")) == SIGN_IN
    # And followup itself no longer takes the key: nothing was only hidden by the page.
    assert api_worklist_status(pipeline, token) == 401


def api_worklist_status(pipeline: LocalPipeline, token: str) -> int:
    return httpx.get(f"{pipeline.url('followup')}/v1/worklist", headers={"authorization": f"Bearer {token}"},
                     timeout=30).status_code


def test_the_worklists_a_structure_reads_on_the_page_are_its_own(pipeline: LocalPipeline) -> None:
    """The page's worklist for a counsellor is followup's answer for that key: no line of another structure."""
    token = pipeline.issue_key("counsellor", HOLDER, counsellor="table-own")
    own = api_worklist(pipeline, token)
    assert {line["structure_id"] for line in own["items"]} <= {HOLDER}
    with _signed_in(pipeline, token) as client:
        csv_lines = client.get("/liste.csv").text.splitlines()
    assert len(csv_lines) - 1 == own["total"]
