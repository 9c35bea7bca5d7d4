"""What the worklist page costs on a 10,000-line worklist, against followup's own API in the same run.

    python bench/bench_worklist_page.py [--lines 10000] [--rounds 15]

The local pipeline (its own broker in a scratch directory, the services and the page as processes) is started
empty, then followup's store is given `--lines` worklist lines directly (rows of `followup_action`, spread over
the territory's structures and every kind, each with a file number; the page only reads them, so how they got
there does not matter). Signed in as the coordinator, it times, each as the median of `--rounds` after two
warm-up rounds:

- GET /liste (the first page, 50 lines) against followup's GET /v1/worklist for the same page (JSON);
- GET /liste filtered (kind, sort by age, 100 lines; and a search by file number) against the same JSON call;
- GET /liste.csv of every line against followup's CSV of the same lines, fetched as the page fetches them
  (followup's largest page, 1000 lines, one after the other).

Prints the ratios page / followup and writes bench/results/worklist-page-<time>.json with the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.machine import load_average, write_result  # noqa: E402
from contracts.territory import load_territory  # noqa: E402
from local.kafka import LocalKafka  # noqa: E402
from local.pipeline import LocalPipeline  # noqa: E402
from services.followup.domain.worklist import URGENCY, LineKind  # noqa: E402

TODAY = date(2026, 3, 20)
EXPECTED = {"lost": "Reprendre contact", "at_risk": "Reprendre contact", "checkin_missed": "Faire le suivi",
            "checkin_due": "Faire le suivi", "referral_expiring": "Répondre à l'orientation",
            "identity_review": "Décider de la revue"}


def seed(db: Path, lines: int, structures: list[str]) -> str:
    """`lines` worklist lines in followup's store, and followup's day; returns one line's file number."""
    kinds = list(LineKind)
    rows = []
    for n in range(lines):
        kind = kinds[n % len(kinds)]
        person = f"p-bench{n:07d}"
        rows.append((person, structures[n % len(structures)], kind.value, kind.value,
                     (TODAY - timedelta(days=n % 200)).isoformat(), URGENCY[kind], f"ans-{n:07d}",
                     f"{EXPECTED[kind.value]} avant le {TODAY:%d/%m/%Y}", f"DOS-{n:07d}"))
    with sqlite3.connect(db, timeout=30) as con:
        con.executemany("INSERT INTO followup_action (person_id, structure_id, kind, reason, since, urgency, "
                        "answer_id, expected, file_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("INSERT OR REPLACE INTO followup_clock (id, today) VALUES (1, ?)", (TODAY.isoformat(),))
    return rows[lines // 2][-1]


async def median_s(call: Callable[[], Awaitable[None]], rounds: int) -> float:
    for _ in range(2):  # warm-up: connections, caches, the first import of a code path
        await call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def signed_in_page(client: httpx.AsyncClient, web: str, token: str) -> None:
    """The coordinator's session on the page, as a browser gets it: the sign-in form, its CSRF token, the key."""
    form = await client.get(f"{web}/connexion")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, "no CSRF token on the sign-in form"
    answer = await client.post(f"{web}/connexion", data={"csrf": csrf.group(1), "token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/liste", answer.text[:300]


async def measure(pipeline: LocalPipeline, lines: int, rounds: int, number: str) -> list[dict[str, Any]]:
    web, followup = pipeline.url("web"), pipeline.url("followup")
    auth = {"authorization": f"Bearer {pipeline.coordinator_token}"}
    page = httpx.AsyncClient(timeout=120)
    api = httpx.AsyncClient(timeout=120, headers=auth)
    try:
        await signed_in_page(page, web, pipeline.coordinator_token)

        def page_get(path: str, check: Callable[[httpx.Response], bool]) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                response = await page.get(web + path)
                assert response.status_code == 200 and check(response), (path, response.status_code)
            return call

        def api_get(params: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                (await api.get(f"{followup}/v1/worklist", params=params)).raise_for_status()
            return call

        async def api_csv_pages() -> None:
            got = 0
            for n in range(1, lines // 1000 + 2):
                body = (await api.get(f"{followup}/v1/worklist", params={"format": "csv", "page": n,
                                                                        "page_size": 1000})).raise_for_status().text
                got += body.count("\n") - 1
                if got >= lines:
                    break
            assert got == lines, got

        csv_lines = lambda r: r.text.count("\n") == lines + 1  # noqa: E731 - a header and every line
        cases = [
            ("first page (50 lines)", "/liste", {"sort": "urgency", "page": 1, "page_size": 50},
             lambda r: r.text.count("<tr>") == 51),
            ("filtered: kind=lost, oldest first, 100 lines", "/liste?kind=lost&sort=since&page_size=100",
             {"kind": "lost", "sort": "since", "page": 1, "page_size": 100}, lambda r: r.text.count("<tr>") == 101),
            ("search by file number", f"/liste?q={number}", {"q": number, "sort": "urgency", "page": 1,
                                                              "page_size": 50}, lambda r: number in r.text),
        ]
        results = []
        for name, path, params, check in cases:
            page_s = await median_s(page_get(path, check), rounds)
            api_s = await median_s(api_get(params), rounds)
            results.append({"case": name, "page_s": page_s, "followup_json_s": api_s, "ratio": page_s / api_s})
        page_s = await median_s(page_get("/liste.csv", csv_lines), max(3, rounds // 3))
        api_s = await median_s(api_csv_pages, max(3, rounds // 3))
        results.append({"case": f"CSV download, all {lines:,} lines", "page_s": page_s,
                        "followup_csv_pages_s": api_s, "ratio": page_s / api_s})
        return results
    finally:
        await page.aclose()
        await api.aclose()


async def main(lines: int, rounds: int) -> dict[str, Any]:
    started_load = load_average()
    with tempfile.TemporaryDirectory(prefix="ariane-bench-page-") as scratch:
        broker = LocalKafka(Path(scratch) / "kafka")
        bootstrap = await asyncio.to_thread(broker.start)
        pipeline = LocalPipeline(run_dir=Path(scratch) / "run", prefix=f"bench-{uuid.uuid4().hex[:8]}.",
                                 with_web=True)
        try:
            await pipeline.start(bootstrap=bootstrap)
            structures = sorted(s.id for s in load_territory(pipeline.territory_file).structures)
            number = seed(pipeline.run_dir / "followup.db", lines, structures)
            results = await measure(pipeline, lines, rounds, number)
        finally:
            await pipeline.stop()
            await asyncio.to_thread(broker.stop)
    return {"lines": lines, "rounds": rounds, "results": results,
            "machine": {"load_average_start": started_load, "load_average_end": load_average()}}


def report(result: dict[str, Any]) -> None:
    print(f"\nworklist page, {result['lines']:,} lines (median of {result['rounds']} rounds; "
          f"load {result['machine']['load_average_start']} -> {result['machine']['load_average_end']})")
    for row in result["results"]:
        baseline = row.get("followup_json_s", row.get("followup_csv_pages_s"))
        print(f"  {row['case']:<48} page {row['page_s'] * 1000:8.1f} ms   followup {baseline * 1000:8.1f} ms"
              f"   page / followup ×{row['ratio']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.lines, args.rounds))
    report(outcome)
    print(f"written: {write_result('worklist-page', outcome)}")
