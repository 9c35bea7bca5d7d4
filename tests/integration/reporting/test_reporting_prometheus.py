"""A real Prometheus scrapes a running reporting service; every dashboard and alert expression returns data.

Also runs `promtool check config`, `check rules` and `test rules` on the committed files.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from contracts import topics
from services.reporting.app import definition
from local.sample import sample_events
from services.reporting.store import tables
from services.runtime.service import create_app
from tests.support.kafka import admin_security
from tests.support.services import test_settings

ROOT = Path(__file__).resolve().parents[3]
PROM_DIR = ROOT / "deploy" / "prometheus"
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def _tools_or_skip() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus and promtool:
        return prometheus, promtool
    reason = "prometheus/promtool not installed (deploy/prometheus/install.sh installs them)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run this test", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def panel_expressions() -> list[tuple[str, str]]:
    out = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                out.append((f"{path.stem}: {panel['title']}", target["expr"]))
    return out


def alert_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((PROM_DIR / "rules" / "ariane-alerts.yml").read_text())
    return [(rule.get("alert") or rule["record"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def figure_of(expr: str) -> str:
    """The left side of an alert's top-level comparison: the figure, which must have data even when the
    threshold is not crossed (the full expression is also run, and must not error)."""
    depth, quoted = 0, False
    for i, ch in enumerate(expr):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth += 1
        elif not quoted and ch in ")]}":
            depth -= 1
        elif not quoted and depth == 0:
            for op in COMPARISONS:
                if expr.startswith(op, i) and not expr.startswith("=~", i) and not expr.startswith("!~", i):
                    return expr[:i].strip()
    return expr


def test_promtool_checks_the_committed_files() -> None:
    _prometheus, promtool = _tools_or_skip()
    for args in (["check", "config", "prometheus.yml"], ["check", "rules", "rules/ariane-alerts.yml"],
                 ["test", "rules", "tests/ariane-alerts.test.yml"]):
        done = subprocess.run([promtool, *args], cwd=PROM_DIR, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"promtool {' '.join(args)}: {done.stdout}{done.stderr}"


def test_figure_of_splits_only_the_top_level_comparison() -> None:
    assert figure_of('up{job=~"ariane-.*"} == 0') == 'up{job=~"ariane-.*"}'
    assert figure_of("sum by (a) (rate(x[5m])) > 0") == "sum by (a) (rate(x[5m]))"
    assert figure_of('x{a!="b"}') == 'x{a!="b"}'


def _temp_config(tmp: Path, service_port: int) -> Path:
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str((PROM_DIR / f).resolve()) for f in config["rule_files"]]
    closed = _free_port()  # the other services are not running here: their `up` is 0, which is data too
    for job in config["scrape_configs"]:
        port = service_port if job["job_name"] == "ariane-reporting" else closed
        for static in job["static_configs"]:
            static["targets"] = [f"127.0.0.1:{port}"]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


async def _query(client: httpx.AsyncClient, expr: str) -> list:
    answer = (await client.get("/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
    return answer["data"]["result"]


async def _until(predicate, what: str, timeout: float = 60):  # noqa: ANN001, ANN202
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


async def test_every_dashboard_and_alert_expression_has_data(
        kafka_bootstrap: str, topic_prefix: str, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    prometheus, _promtool = _tools_or_skip()
    monkeypatch.setenv("ARIANE_REPORTING_METRICS_REFRESH_S", "0.3")
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    service_port, prom_port = _free_port(), _free_port()
    app = create_app(definition(), settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=service_port,
                                           log_config=None, access_log=False, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    proc: subprocess.Popen | None = None
    try:
        async def listening() -> bool:
            return server.started
        await _until(listening, "the reporting service to listen")
        proc = subprocess.Popen([prometheus, f"--config.file={_temp_config(tmp_path, service_port)}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{prom_port}", timeout=10) as prom:
            async def ready() -> bool:
                try:
                    return (await prom.get("/-/ready")).status_code == 200
                except httpx.HTTPError:
                    return False
            await _until(ready, "Prometheus to be ready")
            await _until(lambda: _query(prom, 'up{job="ariane-reporting"} == 1'), "a first scrape")

            # Events arrive while Prometheus watches, so rates and deltas see them happen.
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), enable_idempotence=True)
            await producer.start()
            try:
                pairs = sample_events(people=40, seed=7)
                for topic, event in pairs:
                    await producer.send(topic_prefix + topic, event.to_json_bytes(), key=event.subject.encode())
                await producer.send_and_wait(topic_prefix + topics.INTAKE, b"not an event", key=b"p-poison")
            finally:
                await producer.stop()
            engine = app.state.ctx.engine

            async def caught_up() -> bool:
                async with engine.connect() as conn:
                    n = (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
                return n >= len(pairs) + 1
            await _until(caught_up, "the service to consume every event")
            await _until(lambda: _query(prom, "ariane_reporting_people_lost_now"), "report metrics scraped")

            async def without_data() -> list[str]:
                missing = []
                for where, expr in panel_expressions():
                    if not await _query(prom, expr):
                        missing.append(f"panel {where}: {expr}")
                for name, expr in alert_expressions():
                    await _query(prom, expr)  # the whole rule must evaluate without error
                    if not await _query(prom, figure_of(expr)):
                        missing.append(f"alert {name}: {figure_of(expr)}")
                return missing

            # Rates and deltas need two scrapes of a series that appeared late: poll, with a deadline.
            deadline = asyncio.get_running_loop().time() + 30
            while (missing := await without_data()) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.5)
            assert not missing, "expressions without data:\n" + "\n".join(missing)
            assert len(panel_expressions()) >= 20 and len(alert_expressions()) == 5
            # Bounded labels: no person id ever reaches Prometheus.
            series = (await prom.get("/api/v1/series", params={"match[]": '{job="ariane-reporting"}'})).json()
            assert not [s for s in series["data"] if any(re.match(r"p-\d", v) for v in s.values())]
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        server.should_exit = True
        await asyncio.wait_for(serving, 60)
