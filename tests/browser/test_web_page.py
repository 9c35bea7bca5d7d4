"""A coordinator and a counsellor at work on the page, in a real Chromium, on the real services.

The coordinator signs in with the territory's key, reads the worklist, filters it, downloads it as CSV, opens a
person's timeline and the dashboard, and signs out. A counsellor signs in with their own structure's key and
answers a check-in; the line leaves the worklist once the pipeline has processed the answer.
"""

from __future__ import annotations

import csv
import time
import uuid
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from local.pipeline import LocalPipeline
from tests.browser.conftest import screenshot
from tests.browser.helpers import (api_worklist, bearer, business_time, eventually, follow, messages, post_events,
                                   sign_in)

# store_independent: the page keeps no store; the services behind it answer the same APIs on both stores,
# which their integration tests check on each.
pytestmark = [pytest.mark.kafka, pytest.mark.store_independent, pytest.mark.timeout(900)]
CHECKIN_KINDS = ("checkin_due", "checkin_missed")


def load_seconds(driver) -> float:  # noqa: ANN001
    """From navigation start to the end of the load event, as the browser measured it."""
    timing = driver.execute_script("const t = performance.getEntriesByType('navigation')[0];"
                                   "return [t.startTime, t.loadEventEnd];")
    return (timing[1] - timing[0]) / 1000


def test_the_coordinator_reads_the_worklist_its_csv_a_timeline_and_the_dashboard(pipeline, browser, downloads):
    token = pipeline.coordinator_token
    expected = api_worklist(pipeline, token)
    assert expected["total"] > 0, "the simulated year left nobody on the worklist: nothing to look at"

    # The sign-in page: French, a skip link, a labelled key field. A wrong key is refused in French.
    browser.get(pipeline.url("web") + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert browser.find_element(By.CSS_SELECTOR, "a.skip").get_attribute("href").endswith("#contenu")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=cle]").text == "Clé d'accès"
    screenshot(browser, "signin")
    sign_in(browser, pipeline, "ak_nobody.wrong")
    assert "Clé d'accès refusée" in messages(browser)

    # Signed in: the first page of the whole territory's worklist, as followup orders it.
    sign_in(browser, pipeline, token)
    assert browser.current_url.endswith("/liste"), browser.current_url
    assert "coordination du territoire" in browser.find_element(By.CSS_SELECTOR, ".who").text
    browser.get(pipeline.url("web") + "/liste?page_size=100")
    seconds = load_seconds(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody tr")
    shown = min(100, expected["total"])
    print(f"\nworklist page: {shown} of {expected['total']} lines loaded in {seconds * 1000:.0f} ms")
    assert len(rows) == shown
    firsts = [r.find_element(By.CSS_SELECTOR, "th[scope=row]").text for r in rows]
    assert firsts == [item["person_id"] for item in expected["items"][:shown]]
    assert f"{expected['total']} ligne" in browser.find_element(By.TAG_NAME, "caption").text
    screenshot(browser, "worklist")

    # Filtered to the people lost: only those lines, and the CSV download holds exactly them.
    browser.get(pipeline.url("web") + "/liste")
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("lost")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    lost = api_worklist(pipeline, token, kind="lost")
    kinds = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody .kind")]
    # As many lines as followup has (an empty filtered page once passed for a right one), all of them lost.
    assert len(kinds) == min(50, lost["total"]) and set(kinds) <= {"Perdu de vue"}, kinds
    browser.find_element(By.LINK_TEXT, "Télécharger la liste (CSV)").click()
    downloaded = wait_for_file(downloads / "liste-de-travail.csv")
    rows_csv = list(csv.DictReader(downloaded.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["person_id"] for r in rows_csv) == sorted(i["person_id"] for i in lost["items"]), (
        downloaded.read_text(encoding="utf-8")[:600])
    assert all(r["kind"] == "lost" for r in rows_csv)

    # A person's timeline, from their line.
    browser.get(pipeline.url("web") + "/liste")
    first = browser.find_element(By.CSS_SELECTOR, "table.worklist tbody th[scope=row] a")
    person = first.text
    follow(browser, first)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Historique d'une personne"
    assert person in browser.find_element(By.CSS_SELECTOR, "dl.summary").text
    assert browser.find_elements(By.CSS_SELECTOR, "ol.timeline li.entry"), "a person on the worklist has a history"
    screenshot(browser, "timeline")
    browser.get(pipeline.url("web") + "/personnes/p-nobody-at-all")
    assert "ne connaît aucune personne" in messages(browser)

    # The dashboard: three charts drawn by the server, their figures in tables beside them.
    browser.get(pipeline.url("web") + "/tableau")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3
    assert "Perdus de vue et raccrochés" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "dashboard")

    # A POST without the form's token does nothing; signing out ends the session.
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    refused = httpx.post(pipeline.url("web") + "/reponses", cookies=cookies, follow_redirects=False,
                         data={"checkin_id": "chk-x", "reached": "oui"})
    assert refused.status_code == 303
    browser.get(pipeline.url("web") + "/liste")
    assert "ne vient pas de cette page" in messages(browser)
    follow(browser, browser.find_element(By.XPATH, "//button[text()='Se déconnecter']"))
    assert "Vous êtes déconnecté" in messages(browser)
    browser.get(pipeline.url("web") + "/liste")
    assert browser.current_url.endswith("/connexion")


def wait_for_file(path: Path, bound_s: float = 30) -> Path:
    deadline = time.monotonic() + bound_s
    partial = path.with_name(path.name + ".crdownload")
    last = -1
    while time.monotonic() < deadline:
        # Chromium may show the final name before it has written everything: done when no partial file is
        # left and the size has stopped changing between two looks.
        size = path.stat().st_size if path.exists() else -1
        if size > 0 and size == last and not partial.exists():
            return path
        last = size
        time.sleep(0.3)
    raise AssertionError(f"the browser did not save {path.name}")


def checkin_line_with_a_file_number(pipeline: LocalPipeline) -> dict:
    """A check-in line whose structure has its own file number for the person (kept by intake, which the page
    asks). The simulated year registers people with the registering structure's number, so one is usually
    there; if not, the structure of a check-in line sends its number for the person (a profile update, as its
    own system would) and intake keeps it."""
    def numbered() -> dict | None:
        lines = [i for i in api_worklist(pipeline, pipeline.coordinator_token)["items"]
                 if i.get("kind") in CHECKIN_KINDS and i.get("answer_id")]
        response = httpx.post(f"{pipeline.url('intake')}/v1/file-numbers",
                              headers=bearer(pipeline.coordinator_token), timeout=30,
                              json={"person_ids": sorted({i["person_id"] for i in lines})[:1000]})
        numbers = {(n["person_id"], n["structure_id"]): n["file_number"]
                   for n in response.raise_for_status().json()["items"]}
        return next(({**i, "file_number": numbers[(i["person_id"], i["structure_id"])]} for i in lines
                     if (i["person_id"], i["structure_id"]) in numbers), None)

    line = numbered()
    if line is not None:
        return line
    answer = api_worklist(pipeline, pipeline.coordinator_token)
    line = next((i for i in answer["items"] if i.get("kind") in CHECKIN_KINDS and i.get("answer_id")), None)
    assert line is not None, "the simulated year left no check-in to answer"
    number = f"NAV-{uuid.uuid4().hex[:6].upper()}"
    post_events(pipeline, line["structure_id"], [{
        "specversion": "1.0", "id": f"evt-browser-{uuid.uuid4()}", "source": line["structure_id"],
        "type": "fr.ariane.person.profile_updated", "subject": line["person_id"],
        "time": business_time(answer["today"]),
        "data": {"structure_id": line["structure_id"], "partner_ref": number}}])
    return eventually("intake holds the structure's file number for the line's person", numbered)


def test_a_counsellor_answers_a_checkin_and_the_line_leaves_the_worklist(pipeline, browser):
    line = checkin_line_with_a_file_number(pipeline)
    structure, number = line["structure_id"], line["file_number"]
    key = pipeline.issue_key("counsellor", structure, counsellor="conseillere-browser")

    sign_in(browser, pipeline, key)
    assert browser.current_url.endswith("/liste"), messages(browser)
    assert structure in browser.find_element(By.CSS_SELECTOR, ".who").text
    # The counsellor knows the person by the structure's own file number: searched as typed in the form.
    search = browser.find_element(By.ID, "f-q")
    search.clear()
    search.send_keys(number)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody tr")
    assert rows and all(r.find_elements(By.TAG_NAME, "td")[0].text == number for r in rows), (
        [r.text for r in rows])
    row = next(r for r in rows if line["answer_id"] in r.text)
    screenshot(browser, "counsellor-search-by-file-number")

    # The person's timeline, opened from the line; then back to the same search.
    follow(browser, row.find_element(By.CSS_SELECTOR, "th[scope=row] a"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Historique d'une personne"
    summary = browser.find_element(By.CSS_SELECTOR, "dl.summary").text
    assert line["person_id"] in summary and number in summary
    screenshot(browser, "counsellor-timeline")
    browser.back()
    assert f"q={number}" in browser.current_url, browser.current_url
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody tr")
               if line["answer_id"] in r.text)

    row.find_element(By.TAG_NAME, "summary").click()
    row.find_element(By.CSS_SELECTOR, "input[name=reached][value=oui]").click()
    Select(row.find_element(By.CSS_SELECTOR, "select[name=situation]")).select_by_value("in_employment")
    follow(browser, row.find_element(By.XPATH, ".//button[text()='Enregistrer la réponse']"))
    assert "Réponse enregistrée" in messages(browser), messages(browser)
    screenshot(browser, "checkin-answered")

    # Through intake, Kafka and followup: the line leaves the worklist once followup has read the answer.
    eventually("followup takes the answer into account", lambda: line["answer_id"] not in {
        i.get("answer_id") for i in api_worklist(pipeline, key)["items"]})
    browser.get(pipeline.url("web") + f"/liste?q={number}")
    assert line["answer_id"] not in browser.find_element(By.CSS_SELECTOR, "table.worklist tbody").text
