"""`ariane run all --free-ports` as an operator runs it, on the real broker: every service on a port of its own
that is not its usual one, each answering /health there, the web page calling the others where they now are, the
state file saying where each one is (read by `python -m local.run_state` and by the commands that call a
service), a second supervisor on the same var dir refused, and SIGTERM ending it all with exit 0."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cli.api_client import service_url
from local import catalogue, run_state

REPO = Path(__file__).resolve().parents[3]
NAMES = {"intake", "referral", "followup", "reporting", "web", "clock"}


def wait_for(what: str, check, timeout: float, log: Path):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while (found := check()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout:.0f} s; supervisor output:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)
    return found


def health(url: str) -> dict | None:
    try:
        answer = httpx.get(f"{url}/health", timeout=5)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def test_free_ports_put_each_service_on_its_own_port_and_tell_where(tmp_path, kafka_bootstrap, topic_prefix,
                                                                    monkeypatch):
    env = {**os.environ, "ARIANE_VAR_DIR": str(tmp_path), "ARIANE_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "ARIANE_TOPIC_PREFIX": topic_prefix, "ARIANE_LOG_JSON": "true",
           "ARIANE_INTAKE_TERRITORY_SECRET": secrets.token_hex(32), "ARIANE_INTAKE_MASTER_KEY": secrets.token_hex(32)}
    for variable in ("ARIANE_DATABASE_URL", "ARIANE_HTTP_PORT", "ARIANE_KAFKA_PRINCIPAL"):
        env.pop(variable, None)
    log = tmp_path / "supervisor.out"
    with log.open("wb") as out:
        supervisor = subprocess.Popen([sys.executable, "-m", "cli.main", "run", "all", "--free-ports"], env=env,
                                      cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    state_file = run_state.path_in(tmp_path)
    try:
        state = wait_for("the state file", lambda: run_state.read(state_file), 60, log)
        where = {s["name"]: s for s in state["services"]}
        assert set(where) == NAMES
        ports = [s["port"] for s in where.values()]
        assert len(set(ports)) == len(ports)
        usual = {catalogue.by_name(name).default_port for name in NAMES}
        assert not usual & set(ports)
        for name, s in where.items():
            assert s["url"] == f"http://127.0.0.1:{s['port']}"
            answer = wait_for(f"{name}'s /health on {s['url']}", lambda url=s["url"]: health(url), 90, log)
            assert answer["service"] == name
        # the runtime's services answer their probes on an operations port of their own too; the page has none
        assert where["web"]["ops_port"] is None
        ops_ports = [s["ops_port"] for name, s in where.items() if name != "web"]
        assert len(set(ops_ports + ports)) == len(ops_ports) + len(ports)
        for name, s in where.items():
            if name != "web":
                answer = wait_for(f"{name}'s /health on its operations port",
                                  lambda port=s["ops_port"]: health(f"http://127.0.0.1:{port}"), 30, log)
                assert answer["service"] == name and answer["checks"]["event_loop"] == "ok", answer
                # served on the C event loop and HTTP parser the project depends on, not asyncio's and h11
                metrics = httpx.get(f"http://127.0.0.1:{s['ops_port']}/metrics", timeout=5).text
                assert (f'ariane_runtime_info{{event_loop="uvloop",http_parser="httptools",service="{name}"}} 1.0'
                        in metrics), [line for line in metrics.splitlines() if "runtime_info" in line]
        # the page reaches the three services it calls where they are now, not at their usual ports
        upstreams = wait_for("the page's upstreams", lambda: (h := health(where["web"]["url"])) and
                             all(v == "ok" for v in h["upstreams"].values()) and h["upstreams"] or None, 30, log)
        assert set(upstreams) == {"followup", "intake", "reporting"}

        status = subprocess.run([sys.executable, "-m", "local.run_state", str(tmp_path)], capture_output=True,
                                text=True, cwd=REPO, timeout=30)
        assert status.returncode == 0, status.stdout + status.stderr
        lines = status.stdout.splitlines()
        assert "running" in lines[0]  # the supervisor
        assert {line.split()[0] for line in lines[1:] if line.split()[1] == "running"} == NAMES

        monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path))
        monkeypatch.delenv("ARIANE_FOLLOWUP_URL", raising=False)
        assert service_url(None, "ARIANE_FOLLOWUP_URL", "http://127.0.0.1:8103") == where["followup"]["url"]

        second = subprocess.run([sys.executable, "-m", "cli.main", "run", "all", "--free-ports"], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "already runs" in second.stderr
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            code = supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            raise
    assert code == 0, log.read_text()[-3000:]
    final = run_state.read(state_file)
    assert final is not None and final["supervisor"]["stopped_at"]
    assert {s["state"] for s in final["services"]} == {"stopped"}
    assert {s["restarts"] for s in final["services"]} == {0}
    # every line a runtime service wrote is JSON with its name, its operations port's first line included
    for name in NAMES - {"web"}:
        lines = (tmp_path / "logs" / f"{name}.log").read_text().splitlines()
        assert any('"operations_port_serving"' in line for line in lines), lines[:3]
        for line in lines:
            assert json.loads(line)["service"] == name, line
