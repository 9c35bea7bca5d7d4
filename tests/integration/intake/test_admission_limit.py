"""A partner's burst beyond intake's admission limit: some requests are told to come back (503 with Retry-After,
nothing written), none fails with a server error, and a partner that comes back as told gets every event taken,
each published once.

The limit is set low (3 events in flight) so that a burst of twenty single-event requests sent at once meets
it; the real default is in services/intake/settings.py (`max_events_in_flight`)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
from intake_harness import intake_settings, intake_topic, read_topic, registration

from services.intake.app import definition
from services.intake.store import credentials
from tests.support.services import running_service, test_settings

PEOPLE = ("Martin", "Lefebvre", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Garcia", "David", "Bertrand",
          "Roux", "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet")


async def test_a_burst_past_the_admission_limit_is_told_to_retry_and_every_event_lands_once(
        kafka_bootstrap, database_url, topic_prefix, tmp_path):  # noqa: ANN001
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                             credentials_file=tmp_path / "credentials.json")
    limited = intake_settings(max_events_in_flight=3, busy_retry_after_s=1)
    async with running_service(definition(limited), settings) as (app, client):
        ctx = app.state.ctx
        async with ctx.session_factory() as session, session.begin():
            token = (await credentials.add_key(session, ctx.deps.vault, "departement_49")).token
        # Twenty people, far apart by name: twenty registrations, no review to open between them.
        events = [registration("departement_49", identity={"last_name": name, "first_names": "Alex",
                                                          "birth_date": "1980-01-01"}) for name in PEOPLE]
        first_answers: list[httpx.Response] = []
        every_answer: list[httpx.Response] = []

        async def send_until_taken(event: dict) -> dict:
            """A partner's client: sends the event, and after a 503 sends it again when Retry-After says."""
            for _attempt in range(60):
                answer = await client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {token}"})
                every_answer.append(answer)
                if len(every_answer) <= len(events):
                    first_answers.append(answer)
                if answer.status_code != 503:
                    return answer.json()
                await asyncio.sleep(float(answer.headers["Retry-After"]))
            raise AssertionError("never taken")

        results = await asyncio.wait_for(asyncio.gather(*(send_until_taken(e) for e in events)), 50)

        statuses = Counter(a.status_code for a in every_answer)
        assert not [s for s in statuses if s >= 500 and s != 503], statuses
        told_to_wait = [a for a in every_answer if a.status_code == 503]
        assert told_to_wait, f"a burst of {len(events)} requests never met a limit of 3 events: {statuses}"
        assert all(a.headers.get("Retry-After") == "1" and a.json()["error"] == "busy" for a in told_to_wait)
        # Nothing of a refused request was written: when it comes back its event is accepted, not a duplicate.
        assert [r["results"][0]["status"] for r in results] == ["accepted"] * len(events)

        published = await read_topic(kafka_bootstrap, intake_topic(topic_prefix))
        ids = Counter(json.loads(value)["id"] for _key, value in published)
        assert {e["id"]: ids[e["id"]] for e in events} == {e["id"]: 1 for e in events}
