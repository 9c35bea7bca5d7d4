"""The web page in a real browser: Debian's headless Chromium, driven by selenium, on the real services.

One pipeline for the whole folder (intake, referral, followup, reporting as processes on the real broker, and the
page beside them: filling it takes minutes, so each test picks people of its own and never relies on another's
leftovers), filled by a short simulated territory year sent over HTTP as partners send it; then Chromium
signs in with a real key and reads what the services answer. Nothing is faked, nothing is downloaded: the
browser and its driver are Debian's (deploy/browser/ensure-chromium.sh), named by their paths.

Screenshots of each page go to .var/screenshots/<name>.png (git-ignored test artifacts).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from contracts.territory import load_territory
from local.pipeline import LocalPipeline

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".var" / "screenshots"
# A short year, enough for every kind of line to be on the worklist (losses, missed and due check-ins).
PEOPLE = int(os.environ.get("ARIANE_BROWSER_PEOPLE", 90))
DAYS = int(os.environ.get("ARIANE_BROWSER_DAYS", 300))
SEED = 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
async def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPipeline]:
    """The four services and the page, with a simulated territory's partner events already through them."""
    from simulator.driver import drive
    from simulator.senders import HttpSender
    from simulator.year import simulate

    running = LocalPipeline(run_dir=tmp_path_factory.mktemp("web-run"), prefix=f"web-{uuid.uuid4().hex[:10]}.",
                            with_web=True)
    try:
        await running.start(bootstrap=kafka_bootstrap)
        year = simulate("cite-emploi-angers", people=PEOPLE, seed=SEED, days=DAYS,
                        territory=load_territory(running.territory_file))
        sender = HttpSender(running.url("intake"), running.api_keys, running.bootstrap, running.prefix,
                            security=running.kafka_security())
        await sender.start()
        try:
            await drive(year.stream(), sender, drained=running.day_boundary)
        finally:
            await sender.stop()
        await running.drained()
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture
def browser(downloads: Path, tmp_path: Path) -> Iterator:
    """A fresh headless Chromium (its own profile: no cookie carried from one test to the next)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed: run deploy/browser/ensure-chromium.sh "
                    "(make test does)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000",
                 "--lang=fr-FR"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def screenshot(driver, name: str) -> Path:  # noqa: ANN001 - a selenium WebDriver
    """The whole page (not only the window) as .var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(1000, min(int(height) + 40, 12000)))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path
