"""A counsellor hands part of the structure's caseload to another structure on /transferts, in a real Chromium,
on the real services: the two structures' caseloads and worklists change, as followup's API and the pages say.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from contracts.territory import load_territory
from local.pipeline import LocalPipeline
from tests.browser.conftest import screenshot
from tests.browser.helpers import (api_caseload, api_worklist, eventually, follow, french, messages,
                                   sign_in, sign_out)

# store_independent: the page keeps no store; the services behind it answer the same APIs on both stores,
# which their integration tests check on each.
pytestmark = [pytest.mark.kafka, pytest.mark.store_independent, pytest.mark.timeout(900)]


def a_structure_with_lines_to_hand_over(pipeline: LocalPipeline) -> tuple[str, list[str]]:
    """A structure holding at least two people who are on its worklist (so that the lines' move shows), and
    those two; failing that, any two people it holds."""
    token, best = pipeline.coordinator_token, None
    for structure in sorted(s.id for s in load_territory(pipeline.territory_file).structures):
        held = {i["person_id"] for i in api_caseload(pipeline, token, structure=structure)}
        on_list = sorted(held & {i["person_id"] for i in api_worklist(pipeline, token, structure=structure)["items"]})
        if len(on_list) >= 2:
            return structure, on_list[:2]
        if len(held) >= 2 and best is None:
            best = (structure, sorted(held)[:2])
    assert best is not None, "the simulated year left no structure holding two people"
    return best


def lines_of(pipeline: LocalPipeline, token: str, people: list[str]) -> list[tuple[str, str, str | None]]:
    return sorted((i["person_id"], i["kind"], i["structure_id"]) for i in api_worklist(pipeline, token)["items"]
                  if i["person_id"] in people)


def test_a_counsellor_hands_part_of_the_caseload_to_another_structure(pipeline, browser):
    giver, movers = a_structure_with_lines_to_hand_over(pipeline)
    territory = load_territory(pipeline.territory_file)
    taker = next(s for s in sorted(territory.structures, key=lambda s: s.id) if s.id != giver)
    giver_key = pipeline.issue_key("counsellor", giver, counsellor="conseiller-cede")
    taker_key = pipeline.issue_key("counsellor", taker.id, counsellor="conseiller-reprend")
    today = api_worklist(pipeline, giver_key)["today"]
    held_before = {i["person_id"] for i in api_caseload(pipeline, giver_key)}
    lines_before = lines_of(pipeline, giver_key, movers)

    # The coordinator is told, in French, why the form is not theirs.
    sign_in(browser, pipeline, pipeline.coordinator_token)
    browser.get(pipeline.url("web") + "/transferts")
    assert "faits par la structure qui suit les personnes" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "form.transfer")
    sign_out(browser)

    # The giving structure's counsellor: its caseload, each person with a box, the structure's file numbers.
    sign_in(browser, pipeline, giver_key)
    follow(browser, browser.find_element(By.LINK_TEXT, "Transferts de portefeuille"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Transferts de portefeuille"
    boxes = {b.get_attribute("value"): b for b in browser.find_elements(By.CSS_SELECTOR, "input[name=personne]")}
    assert set(boxes) == held_before
    assert f"{len(held_before)} personne" in browser.find_element(By.CSS_SELECTOR, "table.caseload caption").text
    for person in movers:
        boxes[person].click()
    Select(browser.find_element(By.ID, "vers")).select_by_value(taker.id)
    browser.find_element(By.ID, "vers_conseiller").send_keys("conseiller-reprend")
    assert browser.find_element(By.ID, "le").get_attribute("value") == today  # followup's day, by default
    Select(browser.find_element(By.ID, "motif")).select_by_value("reorganisation")
    browser.find_element(By.ID, "note").send_keys("réorganisation des portefeuilles")
    screenshot(browser, "transfer-form")
    follow(browser, browser.find_element(By.XPATH, "//button[text()='Transférer']"))
    said = messages(browser)
    confirmed = f"2 personnes transférées à {taker.name} (conseiller conseiller-reprend) à partir du {french(today)}"
    assert confirmed in said, said
    screenshot(browser, "transfer-done")

    # Through intake, Kafka and followup: the two people leave the giver's caseload for the taker's.
    eventually("followup moves the two people", lambda: not set(movers) & {
        i["person_id"] for i in api_caseload(pipeline, giver_key)})
    taken = {i["person_id"]: i for i in api_caseload(pipeline, taker_key)}
    assert set(movers) <= set(taken)
    assert {taken[p]["counsellor"] for p in movers} == {"conseiller-reprend"}
    assert {i["person_id"] for i in api_caseload(pipeline, giver_key)} == held_before - set(movers)
    # Their lines follow them: none left at the giver's, the same kinds now at the taker's.
    assert not lines_of(pipeline, giver_key, movers)
    assert sorted((p, k) for p, k, _ in lines_of(pipeline, taker_key, movers)) == sorted(
        (p, k) for p, k, _ in lines_before)

    # The giver's page no longer offers them.
    browser.get(pipeline.url("web") + "/transferts")
    left = {b.get_attribute("value") for b in browser.find_elements(By.CSS_SELECTOR, "input[name=personne]")}
    assert left == held_before - set(movers)
    for person in movers:
        browser.get(pipeline.url("web") + f"/liste?q={person}")
        assert person not in browser.find_element(By.CSS_SELECTOR, "table.worklist tbody").text
    sign_out(browser)

    # The taker's counsellor: the two in its caseload, and their lines on its worklist.
    sign_in(browser, pipeline, taker_key)
    browser.get(pipeline.url("web") + "/transferts")
    offered = {b.get_attribute("value") for b in browser.find_elements(By.CSS_SELECTOR, "input[name=personne]")}
    assert set(movers) <= offered
    for person, kind, _ in lines_before:
        browser.get(pipeline.url("web") + f"/liste?q={person}")
        body = browser.find_element(By.CSS_SELECTOR, "table.worklist tbody").text
        assert person in body and taker.name in body, body
    screenshot(browser, "transfer-taken-over")
