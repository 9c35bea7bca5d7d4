"""What a supervisor leaves behind when it is killed, and what it does when its free port is taken.

- A supervisor killed -9 leaves no service running: its children, those it started first and those it started
  again from its polling thread, are gone within seconds and their ports are free for the next run.
- A child started again from a thread that then ends is not killed with that thread (the kernel's "parent" of a
  child is the thread that started it).
- With ports chosen free, a port taken by someone else before the service binds it: the service is moved to
  another free port, the state file says which, and it answers there. A port the operator asked for is never
  moved.

No broker: the children are plain Python processes listening on a loopback port, as a service does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from local import run_state
from local.kafka import free_port
from local.kafka.ports import port_is_free
from local.restarts import RestartPolicy
from local.supervisor import Supervisor
from services.runtime.backoff import Backoff

# A service in miniature: binds ARIANE_HTTP_PORT on loopback (exit 1 when it cannot, as uvicorn does) and waits.
LISTENER = [sys.executable, "-I", "-S", "-c", (
    "import os, socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "try:\n    s.bind(('127.0.0.1', int(os.environ['ARIANE_HTTP_PORT'])))\n"
    "except OSError as e:\n    print('cannot bind:', e, flush=True); sys.exit(1)\n"
    "s.listen(); time.sleep(300)\n")]
FAST = RestartPolicy(backoff=Backoff(base_s=0.2, ceiling_s=1.6), healthy_after_s=30, crash_loop_after=5)


def wait_until(what: str, check, timeout: float = 30):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)
    return found


def gone(pid: int) -> bool:
    """No such process, or a zombie waiting for whoever adopted it to reap it: either way it runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


# The supervisor as its own process: its loop in a thread (as make chaos runs it), the main thread waiting.
SUPERVISOR_SCRIPT = """
import json, sys, threading, time
from pathlib import Path
from local.restarts import RestartPolicy
from local.supervisor import Supervisor
from services.runtime.backoff import Backoff

tmp, ports, listener = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
supervisor = Supervisor(list(ports), tmp / "logs", ports=ports, commands={name: listener for name in ports},
                        policy=RestartPolicy(backoff=Backoff(base_s=0.2, ceiling_s=1.6)),
                        state_file=tmp / "services.json")
supervisor.start()
threading.Thread(target=supervisor.run, args=(threading.Event(),), kwargs={"echo": print}, daemon=True).start()
time.sleep(600)
"""


def test_children_die_with_a_supervisor_killed_minus_nine(tmp_path):
    ports = {"first": free_port(), "second": 0}
    ports["second"] = free_port(exclude=[ports["first"]])
    repo = Path(__file__).resolve().parents[3]
    with (tmp_path / "supervisor.out").open("wb") as out:
        supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR_SCRIPT, str(tmp_path), json.dumps(ports),
                                       json.dumps(LISTENER)], cwd=repo, stdout=out, stderr=subprocess.STDOUT)
    state_file = tmp_path / "services.json"
    try:
        def running() -> dict[str, int] | None:
            state = run_state.read(state_file)
            pids = {s["name"]: s["pid"] for s in (state or {}).get("services", []) if s["state"] == "running"}
            return pids if len(pids) == 2 and not any(port_is_free(p) for p in ports.values()) else None

        first_pids = wait_until("both children listening", running)
        # One child killed: the supervisor's polling thread starts it again.
        os.kill(first_pids["second"], signal.SIGKILL)
        pids = wait_until("the second child started again by the polling thread",
                          lambda: (found := running()) and found["second"] != first_pids["second"] and found)

        supervisor.kill()
        supervisor.wait(timeout=10)
        wait_until("every child gone after its supervisor was killed -9",
                   lambda: all(gone(pid) for pid in pids.values()), timeout=10)
        # and their ports are free for the next run
        assert all(port_is_free(port) for port in ports.values())
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        state = run_state.read(state_file) or {}
        for service in state.get("services", []):  # never leave one behind, even when the test fails
            if service.get("pid") and not gone(service["pid"]):
                os.kill(service["pid"], signal.SIGKILL)


def test_a_child_started_from_a_thread_that_ends_keeps_running(tmp_path):
    port = free_port()
    supervisor = Supervisor(["svc"], tmp_path / "logs", dict(os.environ), ports={"svc": port},
                            commands={"svc": LISTENER}, policy=FAST)
    supervisor.start()
    try:
        child = supervisor.children[0]
        first = child.pid
        wait_until("the child listening", lambda: not port_is_free(port))
        os.kill(first, signal.SIGKILL)

        def poll_until_restarted() -> None:
            while child.pid == first:
                supervisor.poll()
                time.sleep(0.05)

        poller = threading.Thread(target=poll_until_restarted)
        poller.start()
        poller.join(timeout=30)
        assert child.pid != first
        wait_until("the new child listening", lambda: not port_is_free(port))
        # The thread that asked for the restart has ended; the child must not have gone with it.
        time.sleep(1.0)
        assert child.process.poll() is None and not port_is_free(port)
    finally:
        supervisor.stop(timeout=10)


def serve(supervisor: Supervisor, stop: threading.Event) -> threading.Thread:
    loop = threading.Thread(target=supervisor.run, args=(stop,), kwargs={"echo": lambda note: None}, daemon=True)
    supervisor.start()
    loop.start()
    return loop


def test_a_free_port_taken_before_the_service_binds_it_is_replaced(tmp_path):
    chosen = free_port()
    thief = socket.socket()  # someone else binds the port the supervisor chose, before the service starts
    thief.bind(("127.0.0.1", chosen))
    thief.listen()
    state_file = run_state.path_in(tmp_path)
    old_url = f"http://127.0.0.1:{chosen}"
    # A page calling svc, told where it is by an environment variable, as `ariane run all` tells the web page.
    page = [sys.executable, "-I", "-S", "-c", "import os, time; print(os.environ['SVC_URL'], flush=True); "
                                              "time.sleep(300)"]
    supervisor = Supervisor(["svc", "page"], tmp_path / "logs", {**os.environ, "SVC_URL": old_url},
                            ports={"svc": chosen}, commands={"svc": LISTENER, "page": page}, policy=FAST,
                            state_file=state_file, urls={"svc": old_url}, movable_ports=True,
                            url_env={"svc": "SVC_URL"}, url_readers=("page",))
    stop = threading.Event()
    loop = serve(supervisor, stop)
    try:
        def moved_and_running() -> dict | None:
            state = run_state.read(state_file) or {}
            svc = next((s for s in state.get("services", []) if s["name"] == "svc"), None)
            return svc if svc and svc["state"] == "running" and svc["port"] != chosen else None

        svc = wait_until("the service on another port", moved_and_running)
        new_port = svc["port"]
        assert svc["url"] == f"http://127.0.0.1:{new_port}"
        wait_until("the service listening on its new port", lambda: not port_is_free(new_port))
        with socket.create_connection(("127.0.0.1", new_port), timeout=5):
            pass
        # it failed once on the taken port, and says so in its log
        assert "cannot bind" in (tmp_path / "logs" / "svc.log").read_text()
        assert svc["restarts"] == 1
        # the page was started again, told the new address
        page_log = tmp_path / "logs" / "page.log"
        wait_until("the page told the new address",
                   lambda: page_log.read_text().splitlines()[-1:] == [svc["url"]])
        assert supervisor.children[1].restarts == 1  # it had been started with the old one
    finally:
        stop.set()
        loop.join(timeout=10)
        supervisor.stop(timeout=10)
        thief.close()


def test_a_port_the_operator_asked_for_is_never_moved(tmp_path):
    asked = free_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", asked))
    holder.listen()
    supervisor = Supervisor(["svc"], tmp_path / "logs", dict(os.environ), ports={"svc": asked},
                            commands={"svc": LISTENER}, policy=FAST)
    stop = threading.Event()
    loop = serve(supervisor, stop)
    try:
        child = supervisor.children[0]
        wait_until("two failed starts", lambda: child.life.quick_exits >= 2)
        assert child.port == asked
    finally:
        stop.set()
        loop.join(timeout=10)
        supervisor.stop(timeout=10)
        holder.close()
