"""The operations port: an orchestrator's probes and the metrics scraper answered while the event loop is held.

The service runs in this test's own event loop, so `time.sleep` here holds the service's loop exactly as a long
batch would; the probes are asked from another thread, as a kubelet or Prometheus asks from another process.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from contextlib import contextmanager

from local.kafka import create_topics
from services.runtime.ops_server import OperationsServer
from services.runtime.service import create_app, operations_routes
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION


def ask(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@contextmanager
def operations_port(app, settings):  # noqa: ANN001, ANN201 - test helper
    server = OperationsServer("127.0.0.1", 0, operations_routes(app, DEFINITION.name, settings)).start()
    try:
        yield server.port
    finally:
        server.stop()


def asked_while_held(port: int, path: str, hold_s: float, ask_after_s: float) -> tuple[int, str, bool]:
    """Hold the calling thread's event loop for `hold_s`; `ask_after_s` into it, another thread asks `path`.
    Returns the answer and whether it came while the loop was still held."""
    released = threading.Event()
    got: dict = {}

    def probe() -> None:
        time.sleep(ask_after_s)
        got["answer"] = ask(port, path)
        got["while_held"] = not released.is_set()

    prober = threading.Thread(target=probe)
    prober.start()
    time.sleep(hold_s)  # the service's loop is this one: nothing of it runs meanwhile
    released.set()
    prober.join(timeout=15)
    status, body = got["answer"]
    return status, body, got["while_held"]


async def _service(kafka_bootstrap, topic_prefix, database_url, **overrides):  # noqa: ANN001, ANN202
    await create_topics(kafka_bootstrap, {f"{topic_prefix}counter.in": 1, f"{topic_prefix}counter.out": 1})
    return test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                         **overrides)


async def test_probes_answer_while_the_event_loop_is_busy(kafka_bootstrap, topic_prefix, database_url):
    settings = await _service(kafka_bootstrap, topic_prefix, database_url)
    async with running_service(DEFINITION, settings) as (app, client):
        await client.get("/health")  # a first reading of the store
        await asyncio.sleep(0.2)  # turns of the loop: its watch wakes and is observed (a loaded machine's reading
        # may come back without the request giving the loop a turn)
        with operations_port(app, settings) as port:
            status, body, while_held = asked_while_held(port, "/health", hold_s=2.0, ask_after_s=0.5)
            assert while_held, "the operations port waited for the event loop"
            assert status == 200, body
            health = json.loads(body)
            api_health = (await client.get("/health")).json()
            # The same answer as the API port's, plus when the loop last turned (it was held half a second).
            assert health["checks"] == {**api_health["checks"], "event_loop": "ok"}
            assert health["tasks"] == api_health["tasks"] == {"relay": "ok", "consumer": "ok"}
            assert health["event_loop_turned_s_ago"] >= 0.4

            status, body, while_held = asked_while_held(port, "/metrics", hold_s=1.0, ask_after_s=0.2)
            assert while_held and status == 200
            assert 'ariane_event_loop_lag_seconds_count{service="counter"}' in body, body

            ready_status, ready_body = ask(port, "/health/ready")
            assert ready_status == 200, ready_body
            assert json.loads(ready_body)["checks"] == {"database": "ok", "consumer": "ok", "broker": "ok",
                                                         "event_loop": "ok"}
            assert ask(port, "/v1/anything")[0] == 404


async def test_a_loop_held_too_long_fails_every_probe_until_it_turns_again(kafka_bootstrap, topic_prefix,
                                                                           database_url):
    settings = await _service(kafka_bootstrap, topic_prefix, database_url, ops_loop_dead_after_s=0.3)
    async with running_service(DEFINITION, settings) as (app, client):
        await client.get("/health")
        with operations_port(app, settings) as port:
            status, body, while_held = asked_while_held(port, "/health/live", hold_s=1.5, ask_after_s=0.8)
            assert while_held and status == 503, body
            live = json.loads(body)
            assert live["status"] == "dead" and live["why"][0].startswith("event loop held for")
            # Released, but not a turn since (no await yet): as far as anyone can tell, still held.
            assert ask(port, "/health/ready")[0] == 503

            await client.get("/health/live")  # a turn of the loop, and the watch's next wake
            for _ in range(50):
                status, body = ask(port, "/health/live")
                if status == 200:
                    break
                await asyncio.sleep(0.02)
            assert status == 200 and json.loads(body)["status"] == "alive", body


async def test_before_the_service_has_started_probes_say_starting(kafka_bootstrap, topic_prefix, database_url):
    settings = await _service(kafka_bootstrap, topic_prefix, database_url)
    app = create_app(DEFINITION, settings)  # its lifespan not run: nothing is up yet
    with operations_port(app, settings) as port:
        live_status, live_body = ask(port, "/health/live")
        health_status, _ = ask(port, "/health")
        metrics_status, _ = ask(port, "/metrics")
    # As the API port, not yet listening, answers none: a start that hangs is restarted after the startup probe's time.
    assert (live_status, json.loads(live_body)["status"]) == (503, "starting")
    assert health_status == 503 and metrics_status == 503
