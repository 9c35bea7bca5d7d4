"""The coordinator resolves an identity review on /revues, in a real Chromium, on the real services.

Two structures register, through intake, two people with the same first names and birth date, last names one
letter apart and no NIR: intake cannot tell whether they are one person and opens a review; followup puts an
`identity_review` line on the coordinator's worklist. The coordinator follows the line to the review, sees both
records side by side, opens a timeline, decides "two different people", and the line leaves the worklist.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from contracts.territory import load_territory
from tests.browser.conftest import screenshot
from tests.browser.helpers import (api_worklist, eventually, follow, messages, post_events, registration,
                                   sign_in)

# store_independent: the page keeps no store; the services behind it answer the same APIs on both stores,
# which their integration tests check on each.
pytestmark = [pytest.mark.kafka, pytest.mark.store_independent, pytest.mark.timeout(900)]


def test_the_coordinator_resolves_an_identity_review(pipeline, browser):
    coordinator = pipeline.coordinator_token
    today = api_worklist(pipeline, coordinator)["today"]
    first, second = sorted(s.id for s in load_territory(pipeline.territory_file).structures)[:2]
    # Unique to this run, so no simulated person is near them; one letter apart: close, yet not one identity.
    tag = uuid.uuid4().hex[:4]
    born, given = "2001-06-23", f"Maëlle{tag}"
    (one,) = post_events(pipeline, first, [registration(first, today, {"last_name": "Kerbrat", "first_names": given,
                                                                       "birth_date": born}, f"BRW-{tag}-1")])
    (two,) = post_events(pipeline, second, [registration(second, today, {"last_name": "Kerbrad",
                                                                         "first_names": given, "birth_date": born},
                                                         f"BRW-{tag}-2")])
    assert one["status"] == two["status"] == "accepted" and one["person_id"] != two["person_id"], (one, two)
    pair = {one["person_id"], two["person_id"]}

    def review_line() -> dict | None:
        return next((i for i in api_worklist(pipeline, coordinator, kind="identity_review")["items"]
                     if i["person_id"] in pair), None)

    line = eventually("followup puts the review on the coordinator's worklist", review_line)
    review_id = line["answer_id"]

    # The coordinator filters the worklist on reviews and follows the line to the review.
    sign_in(browser, pipeline, coordinator)
    browser.get(pipeline.url("web") + "/liste")
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("identity_review")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody tr") if review_id in r.text)
    assert "Revue d'identité" in row.text
    follow(browser, row.find_element(By.LINK_TEXT, "Décider de cette revue"))
    assert browser.current_url.endswith(f"/revues#revue-{review_id}"), browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Revues d'identité"
    section = browser.find_element(By.ID, f"revue-{review_id}")
    text = section.text
    assert "prénoms, date de naissance" in text and "NIR" in text, text
    assert {"Kerbrat", "Kerbrad", "23/06/2001"} <= set(text.replace("\n", " ").split(" ")), text
    links = {a.text for a in section.find_elements(By.CSS_SELECTOR, "thead a")}
    assert links == pair
    screenshot(browser, "identity-review")

    # Each record's timeline is one click away; back to the review.
    follow(browser, section.find_element(By.LINK_TEXT, two["person_id"]))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Historique d'une personne"
    assert two["person_id"] in browser.find_element(By.CSS_SELECTOR, "dl.summary").text
    browser.back()

    section = browser.find_element(By.ID, f"revue-{review_id}")
    section.find_element(By.CSS_SELECTOR, "input[name=decision][value=different_people]").click()
    section.find_element(By.TAG_NAME, "textarea").send_keys("structures et adresses différentes")
    follow(browser, section.find_element(By.XPATH, ".//button[text()='Enregistrer la décision']"))
    said = messages(browser)
    assert f"Décision enregistrée pour la revue {review_id} : deux personnes différentes" in said, said
    assert not browser.find_elements(By.ID, f"revue-{review_id}")  # no longer pending
    screenshot(browser, "identity-review-decided")

    # Through intake, Kafka and followup: the review line leaves the coordinator's worklist.
    eventually("followup takes the decision into account", lambda: review_line() is None)
    browser.get(pipeline.url("web") + "/liste?kind=identity_review")
    assert review_id not in browser.find_element(By.CSS_SELECTOR, "table.worklist tbody").text

    # Decided once: the same decision sent again (a second tab, a resent form) is refused in French.
    csrf = browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    again = httpx.post(pipeline.url("web") + "/revues", cookies=cookies, follow_redirects=False,
                       data={"csrf": csrf, "review_id": review_id, "decision": "same_person"})
    assert again.status_code == 303
    browser.get(pipeline.url("web") + "/revues")
    assert f"La revue {review_id} a déjà été décidée" in messages(browser), messages(browser)
