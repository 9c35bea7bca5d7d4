"""The state file of `ariane run all` as its readers use it: `ariane run status` and the commands that call a
service (they take its URL from the file while its supervisor runs, else the usual address)."""

from __future__ import annotations

import json
import os
import time

from typer.testing import CliRunner

from cli.api_client import service_url
from cli.main import app
from local import run_state


def a_state(*, pid: int, updated: float, stopped: bool = False, followup_state: str = "running") -> dict:
    return {
        "supervisor": {"pid": pid, "started_at": run_state.iso(updated - 60),
                       "stopped_at": run_state.iso(updated) if stopped else None, "loop_p99_ms": 101.0},
        "updated_at": run_state.iso(updated),
        "services": [
            {"name": "intake", "state": "running", "pid": 4242, "port": 41001, "url": "http://127.0.0.1:41001",
             "restarts": 0, "quick_exits": 0, "last_exit_code": None, "next_start_at": None, "log": "intake.log"},
            {"name": "followup", "state": followup_state, "pid": None, "port": 41003,
             "url": "http://127.0.0.1:41003", "restarts": 7, "quick_exits": 6, "last_exit_code": 70,
             "next_start_at": run_state.iso(updated + 25), "log": "logs/followup.log"},
        ],
    }


def test_status_shows_a_crash_looping_service_with_its_exit_code_next_start_and_log_and_exits_1(tmp_path,
                                                                                                 monkeypatch):
    monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path))
    run_state.write(run_state.path_in(tmp_path), a_state(pid=os.getpid(), updated=time.time(),
                                                         followup_state="crash_looping"))
    result = CliRunner().invoke(app, ["run", "status"])
    assert result.exit_code == 1
    followup = next(line for line in result.output.splitlines() if line.startswith("followup"))
    assert "crash_looping" in followup and "last exit 70" in followup and "restarts 7" in followup
    assert "next start in 2" in followup and "logs/followup.log" in followup
    assert "running" in result.output.splitlines()[0]  # the supervisor itself


def test_status_exits_0_when_everything_runs_and_2_when_nothing_ever_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path))
    assert CliRunner().invoke(app, ["run", "status"]).exit_code == 2
    state = a_state(pid=os.getpid(), updated=time.time())
    state["services"] = state["services"][:1]
    run_state.write(run_state.path_in(tmp_path), state)
    result = CliRunner().invoke(app, ["run", "status", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["services"][0]["url"] == "http://127.0.0.1:41001"


def test_a_supervisor_that_stopped_writing_is_shown_stale_and_one_that_left_says_so(tmp_path):
    old = a_state(pid=os.getpid(), updated=time.time() - 60)
    assert run_state.supervisor_state(old) == "stale"
    assert run_state.render(old)[1] is False
    assert run_state.supervisor_state(a_state(pid=os.getpid(), updated=time.time(), stopped=True)) == "stopped"


def test_commands_find_a_service_where_the_running_supervisor_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("ARIANE_FOLLOWUP_URL", raising=False)
    default = "http://127.0.0.1:8103"
    assert service_url(None, "ARIANE_FOLLOWUP_URL", default) == default  # no file: the usual address
    run_state.write(run_state.path_in(tmp_path), a_state(pid=os.getpid(), updated=time.time()))
    assert service_url(None, "ARIANE_FOLLOWUP_URL", default) == "http://127.0.0.1:41003"
    assert service_url("http://elsewhere:1", "ARIANE_FOLLOWUP_URL", default) == "http://elsewhere:1"
    monkeypatch.setenv("ARIANE_FOLLOWUP_URL", "http://from-variable:2")
    assert service_url(None, "ARIANE_FOLLOWUP_URL", default) == "http://from-variable:2"


def test_a_stopped_supervisors_file_no_longer_gives_addresses(tmp_path, monkeypatch):
    monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("ARIANE_INTAKE_URL", raising=False)
    run_state.write(run_state.path_in(tmp_path), a_state(pid=os.getpid(), updated=time.time(), stopped=True))
    assert service_url(None, "ARIANE_INTAKE_URL", "http://127.0.0.1:8101") == "http://127.0.0.1:8101"
