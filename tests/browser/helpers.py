"""What the browser tests share: signing in on the page, reading its messages, and asking the services
themselves (followup's worklist and caseload, intake's front door) what the page must agree with."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from local.pipeline import LocalPipeline


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def api_worklist(pipeline: LocalPipeline, token: str, **params: object) -> dict:
    """What followup itself answers this key: the page must show exactly this."""
    response = httpx.get(f"{pipeline.url('followup')}/v1/worklist", params={"page_size": 1000, **params},
                         headers=bearer(token), timeout=30)
    return response.raise_for_status().json()


def api_caseload(pipeline: LocalPipeline, token: str, **params: object) -> list[dict]:
    """Everyone followup says this key's structure (or the one asked for, for the coordinator) holds now."""
    response = httpx.get(f"{pipeline.url('followup')}/v1/caseload", params={"page_size": 1000, **params},
                         headers=bearer(token), timeout=30)
    return response.raise_for_status().json()["items"]


def post_events(pipeline: LocalPipeline, structure: str, events: list[dict]) -> list[dict]:
    """Events sent to intake as the structure's partner system sends them (its partner key)."""
    response = httpx.post(f"{pipeline.url('intake')}/v1/events", json=events,
                          headers=bearer(pipeline.api_keys[structure]), timeout=60)
    assert response.status_code == 202, response.text
    return response.json()["results"]


def business_time(day: str, zone: str = "Europe/Paris") -> str:
    """Followup's business day at ten in the morning: the simulated year's day, not the wall clock's."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=10),
                            ZoneInfo(zone)).isoformat()


def registration(structure: str, day: str, identity: dict[str, Any] | None, partner_ref: str) -> dict:
    data: dict[str, Any] = {"structure_id": structure, "registered_on": day, "birth_year": 2001,
                            "commune_insee": "49007", "qpv_resident": True, "rqth": False, "rsa": False,
                            "single_parent": False, "education_level": "4", "partner_ref": partner_ref}
    if identity:
        data["identity"] = identity
    return {"specversion": "1.0", "id": f"evt-browser-{uuid.uuid4()}", "source": structure,
            "type": "fr.ariane.person.registered", "subject": partner_ref, "time": business_time(day),
            "data": data}


def eventually(what: str, check: Callable[[], Any], bound_s: float = 120) -> Any:
    """`check()`'s first truthy answer: the pipeline is asynchronous (intake, Kafka, then followup)."""
    deadline = time.monotonic() + bound_s
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"{what}: not within {bound_s:.0f} s"
        time.sleep(0.5)


def follow(driver, element, bound_s: float = 60) -> None:  # noqa: ANN001 - a selenium WebDriver and element
    """Click a link or a form's button and wait for the next page: a click returns once the browser took it,
    not once the page after a POST and its redirect is there (on a loaded machine, a message read at once is
    the old page's).

    The page being left is marked with a token of its own, and the wait ends when a complete document
    without that mark is there. Asking whether the old page's element went stale does not work: Chromium
    may answer a question about a node of a document being torn down with an "unknown error" rather than a
    stale element, which failed CI once; a question asked mid-navigation is simply asked again."""
    mark = uuid.uuid4().hex
    driver.execute_script("window.arianeLeaving = arguments[0];", mark)
    element.click()

    def arrived(d) -> bool:  # noqa: ANN001
        try:
            return bool(d.execute_script(
                "return window.arianeLeaving !== arguments[0] && document.readyState === 'complete';", mark))
        except WebDriverException:  # the document changed under the question: ask again
            return False

    WebDriverWait(driver, bound_s).until(arrived)


def sign_in(driver, pipeline: LocalPipeline, token: str) -> None:  # noqa: ANN001 - a selenium WebDriver
    driver.get(pipeline.url("web") + "/")
    assert driver.current_url.endswith("/connexion")
    field = driver.find_element(By.ID, "cle")
    field.clear()
    field.send_keys(token)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]"))


def sign_out(driver) -> None:  # noqa: ANN001
    follow(driver, driver.find_element(By.XPATH, "//button[text()='Se déconnecter']"))


def messages(driver) -> str:  # noqa: ANN001
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "p.message"))


def french(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")
