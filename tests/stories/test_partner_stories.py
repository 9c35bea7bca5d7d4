"""The partner stories (tests/stories/*.yaml), run against the real intake, referral, followup and reporting on a
real broker. Every story has its own person; all share one calendar, one broker and one set of services, so the
whole corpus costs one pass over the year. Each story is then one test: what Ariane showed on each checked day
against what the story says must be seen. The report's figures are checked once, for the whole corpus, against
the sum of what each story says it adds to them."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.envelope import Envelope
from contracts.territory import load_territory
from local import catalogue
from local.databases import create_postgres_database
from local.drain import PipelineWatcher, Progress, service_groups, wait_drained
from local.kafka import ensure_topics
from services.followup.app import definition as followup_definition
from services.followup.store import PersonRow
from services.intake.app import definition as intake_definition
from services.intake.store.credentials import add_key
from services.referral.app import definition as referral_definition
from services.reporting.app import definition as reporting_definition
from services.runtime.credentials import CredentialsBook
from tests.stories.harness import (Observation, PartnerChannel, Story, TopicReader, Unresolved, _day, admin_security,
                                   build_event, load_stories, referral_outcome, send_all, tick)
from tests.support.databases import _postgres_server_url
from tests.support.services import running_service, test_settings

STORIES = load_stories()
SERVICES = ("intake", "referral", "followup", "reporting")


class FastWatcher(PipelineWatcher):
    """The pipeline's lag, each group's committed offsets asked at once rather than one after the other."""

    async def progress(self) -> Progress:
        ends, *committed = await asyncio.gather(self._consumer.end_offsets(self._partitions), *[
            self._admin.list_consumer_group_offsets(group) for group in self.groups])
        lag = 0
        for (group, names), offsets in zip(self.groups.items(), committed):
            for tp in self._partitions:
                if tp.topic in names:
                    done = offsets.get(tp)
                    lag += max(0, ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0))
        return Progress(lag=lag, end_offsets_total=sum(ends.values()))


@dataclass
class CorpusRun:
    observed: dict[tuple[str, date], Observation] = field(default_factory=dict)
    alerts: dict[str, list[str]] = field(default_factory=dict)
    letters: dict[str, list[str]] = field(default_factory=dict)  # story -> dead letters about its person
    figures: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    deadletters: list[str] = field(default_factory=list)


def _coordinator_id() -> str:
    coordinator = load_territory().coordinator
    return getattr(coordinator, "id", coordinator)


async def _database(tmp: Any, name: str) -> str:
    server = _postgres_server_url()
    if server is None:
        return f"sqlite+aiosqlite:///{tmp / (name + '.db')}"
    return await create_postgres_database(server, f"ariane_story_{name}_{uuid.uuid4().hex[:8]}")


def _figures(report: dict[str, Any]) -> dict[str, int]:
    flows = report["flows"]
    out = {name: sum(int(row.get(name, 0)) for row in flows)
           for name in ("issued", "accepted", "refused", "expired", "withdrawn", "breached")}
    lost = report["lost_reengaged"]
    out.update(lost=lost["lost"], reengaged=lost["reengaged"], corrected=lost.get("corrected", 0))
    out["people"] = sum(int(row["persons"]) for row in report["persons_by_state"])
    return out


@pytest.fixture(scope="module")
async def corpus(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    tmp = tmp_path_factory.mktemp("stories")
    prefix = f"s{uuid.uuid4().hex[:10]}."
    await ensure_topics(kafka_bootstrap, partitions=3, prefix=prefix)
    book = CredentialsBook(tmp / "credentials.json")
    token = book.issue("coordinator", _coordinator_id()).token
    auth = {"authorization": f"Bearer {token}"}
    definitions = {"intake": intake_definition(), "referral": referral_definition(),
                   "followup": followup_definition(),
                   "reporting": reporting_definition()}
    run = CorpusRun()
    arrivals: dict[date, list[tuple[Story, int, dict[str, Any]]]] = defaultdict(list)
    checks: dict[date, list[tuple[Story, dict[str, Any]]]] = defaultdict(list)
    for story in STORIES:
        for check in story.checks:
            checks[_day(check["day"])].append((story, check))
    told = [_day(story.arrival(line)) for story in STORIES for line in story.events]
    first, last = min(told), max([*told, *checks]) + timedelta(days=1)
    for story in STORIES:
        for n, line in enumerate(story.events_until(first, last)):
            arrivals[_day(story.arrival(line))].append((story, n, line))
    async with AsyncExitStack() as stack:
        apps = {}
        for name in SERVICES:
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=prefix,
                                     database_url=await _database(tmp, name), credentials_file=book.path)
            apps[name] = await stack.enter_async_context(running_service(definitions[name], settings))
        async def outbox_pending() -> int:
            counts = {name: await app.state.ctx.relay.pending_count() for name, (app, _client) in apps.items()}
            return sum(counts.values())

        # Exact: nothing left in any outbox and every consumer group at the end of its topics.
        watcher = FastWatcher(kafka_bootstrap, service_groups([catalogue.by_name(n) for n in SERVICES], prefix))
        await watcher.start()
        stack.push_async_callback(watcher.stop)

        async def drained() -> None:
            await wait_drained(watcher, timeout=120, outbox_pending=outbox_pending, quiet_s=0.0, interval_s=0.005,
                               rest_interval_s=0.005)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", **admin_security(kafka_bootstrap))
        await producer.start()
        stack.push_async_callback(producer.stop)
        partners = PartnerChannel(kafka_bootstrap, prefix)
        stack.push_async_callback(partners.stop)
        reader = TopicReader(kafka_bootstrap, prefix)
        await reader.start()
        stack.push_async_callback(reader.stop)
        intake_app, intake_http = apps["intake"]
        intake_ctx = intake_app.state.ctx
        keys: dict[str, str] = {}

        async def api_key(structure: str) -> str:
            if structure not in keys:
                async with intake_ctx.session_factory() as session:
                    issued = await add_key(session, intake_ctx.deps.vault, structure)
                    await session.commit()
                keys[structure] = issued.token
            return keys[structure]

        async def settle() -> None:
            nonlocal settles
            settles += 1
            await drained()
            await reader.catch_up()

        async def send(batch: list[tuple[dict[str, Any], Envelope]]) -> None:
            await partners.send([e for line, e in batch if line.get("channel", "kafka") in ("kafka", "both")])
            for line, event in batch:
                if line.get("channel", "kafka") in ("http", "both"):
                    answer = await intake_http.post("/v1/events", content=b"[" + event.to_json_bytes() + b"]",
                                                    headers={"authorization": f"Bearer {await api_key(event.source)}",
                                                             "content-type": "application/json"})
                    assert answer.status_code < 300, answer.text

        async def decide_review(story: Story, line: dict[str, Any]) -> bool:
            """The coordinator decides the story's pending identity review in intake (False: none to decide)."""
            people = _people(reader, story)
            for review in await _reviews(intake_http, auth, "pending"):
                if {review["person_id"], review["other_person_id"]} & people:
                    answer = await intake_http.post(f"/v1/identity-reviews/{review['review_id']}/decision",
                                                    json={"decision": line["decision"]}, headers=auth)
                    assert answer.status_code == 200, answer.text
                    return True
            return False

        started, settles = time.monotonic(), 0
        day = first
        while day <= last:
            if os.environ.get("ARIANE_STORIES_PROGRESS") and day.day == 1:
                print(f"{day} {settles} settles {time.monotonic() - started:.1f} s", flush=True)
            reader.seen.day = day
            await send_all(producer, prefix, [(topics.CLOCK, tick(day))])
            if day in arrivals or day in checks:
                await settle()
                todo = list(arrivals.get(day, ()))
                for _round in range(6):
                    if not todo:
                        break
                    ready, waiting = [], []
                    for story, n, line in todo:
                        if line["event"] == "identity.review_decided":
                            if not await decide_review(story, line):
                                waiting.append((story, n, line))
                            continue
                        try:
                            ready.append((line, build_event(story, n, line, reader.seen)))
                        except Unresolved:
                            waiting.append((story, n, line))
                    await send(ready)
                    await settle()
                    todo = waiting
                for story, n, line in todo:
                    run.problems[story.name].append(f"{day}: event {n} ({line['event']}) could not be sent")
                for story, check in checks.get(day, ()):
                    run.observed[(story.name, day)] = await _observe(apps, auth, reader, story, check)
            day += timedelta(days=1)
        await settle()
        print(f"stories: {len(STORIES)}, days {first}..{last}, {settles} settles, {time.monotonic() - started:.1f} s")
        for story in STORIES:
            persons = _persons(reader, story)
            run.alerts[story.name] = _in_day_order([reader.seen.alerts.get(p, []) for p in persons])
            run.letters[story.name] = _in_day_order([reader.seen.letters.get(p, []) for p in persons])
        answer = await apps["reporting"][1].get("/v1/report", headers=auth)
        run.figures = _figures(answer.json())
        people = {person for story in STORIES for person in _persons(reader, story)}
        run.deadletters = reader.seen.deadletters + [  # letters about nobody a story follows are unexpected
            f"{person}: {letter}" for person, letters in reader.seen.letters.items() if person not in people
            for letter in letters]
    return run


def _persons(reader: TopicReader, story: Story) -> list[str]:
    """The story's people: its person, then whoever its other registrations gave (in the story's order)."""
    found = [reader.seen.person_of_registration.get(r) for r in story.registration_ids()]
    return list(dict.fromkeys(p for p in found if p))


def _people(reader: TopicReader, story: Story) -> set[str]:
    return set(_persons(reader, story))


def _in_day_order(lists: list[list[str]]) -> list[str]:
    """One person's lines as published; two people's merged by the day each line starts with."""
    if len(lists) <= 1:
        return list(lists[0]) if lists else []
    return sorted((x for xs in lists for x in xs), key=lambda x: x[:10])


async def _reviews(intake_http: Any, auth: dict[str, str], status: str) -> list[dict[str, Any]]:
    answer = await intake_http.get("/v1/identity-reviews", params={"status": status, "limit": 200}, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def _observe(apps: dict[str, Any], auth: dict[str, str], reader: TopicReader, story: Story,
                   check: dict[str, Any]) -> Observation:
    person = reader.seen.person_of_registration.get(f"{story.ref}-0")
    if person is None:
        return Observation(None, [], [])
    people = _people(reader, story)
    followup_app, followup_http = apps["followup"]
    async with followup_app.state.ctx.session_factory() as session:
        row = await session.get(PersonRow, person)
    worklist = (await followup_http.get("/v1/worklist", params={"page_size": 1000}, headers=auth)).json()
    lines = sorted(f"{i['kind']} {i['structure_id']}" for i in worklist["items"] if i["person_id"] in people)
    rows = (await apps["referral"][1].get("/v1/referrals", params={"limit": 1000}, headers=auth)).json()
    rows = [r for r in (rows["items"] if isinstance(rows, dict) else rows) if r["person_id"] in people]
    outcomes = [referral_outcome(r) for r in sorted(rows, key=lambda r: (r["issued_on"], r["to_structure"]))]
    reviews = None
    if "reviews" in check:  # only when asked: listing pending reviews shows (discloses) the identities
        intake_http = apps["intake"][1]
        reviews = []
        for status in ("pending", "same_person", "different_people"):
            reviews += [r["status"] for r in await _reviews(intake_http, auth, status)
                        if {r["person_id"], r["other_person_id"]} & people]
        reviews.sort()
    return Observation(row.state if row else None, lines, outcomes, reviews)


@pytest.mark.slow
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_partner_story(story: Story, corpus: CorpusRun) -> None:
    differences = list(corpus.problems.get(story.name, []))
    for check in story.checks:
        seen = corpus.observed[(story.name, _day(check["day"]))]
        if "state" in check and seen.state != check["state"]:
            differences.append(f"{check['day']}: state {seen.state}, the story says {check['state']}")
        if "worklist" in check and seen.worklist != sorted(check["worklist"]):
            differences.append(f"{check['day']}: worklist {seen.worklist}, the story says {sorted(check['worklist'])}")
        if "referrals" in check and seen.referrals != check["referrals"]:
            differences.append(f"{check['day']}: referrals {seen.referrals}, the story says {check['referrals']}")
        if "reviews" in check and seen.reviews != sorted(check["reviews"]):
            differences.append(f"{check['day']}: identity reviews {seen.reviews}, the story says "
                               f"{sorted(check['reviews'])}")
    if "alerts" in story.raw and corpus.alerts[story.name] != story.raw["alerts"]:
        differences.append("alerts published:\n    " + "\n    ".join(corpus.alerts[story.name])
                           + "\n  the story says:\n    " + "\n    ".join(story.raw["alerts"] or []))
    # Every dead letter about the person, with the day it was seen: those the story names, no other.
    # A letter named by its `code` alone (the reason's first word) leaves its wording to the service.
    told_letters = story.raw.get("deadletters") or []
    letters = [f"{_day(x['day'])} {x['reason'] if 'reason' in x else x['code']}" for x in told_letters]
    seen_letters = [seen if "reason" in x else seen.split(":", 1)[0]
                    for seen, x in zip(corpus.letters[story.name], told_letters)]
    seen_letters += corpus.letters[story.name][len(told_letters):]
    if seen_letters != letters:
        differences.append("dead letters:\n    " + "\n    ".join(corpus.letters[story.name])
                           + "\n  the story says:\n    " + "\n    ".join(letters))
    told = f"{story.name}: {story.raw.get('title')}\n  " + "\n  ".join(differences)
    # A known failure is still run and compared: it is an expected failure only while it does fail, and the
    # day a fix makes it pass, this says so (the mark must then go, and the story counts like any other).
    if story.raw.get("known_failure"):
        assert differences, f"{story.name} now passes: remove its known_failure ({story.raw['known_failure']})"
        pytest.xfail(f"{story.raw['known_failure']}\n  {told}")
    assert not differences, told


@pytest.mark.slow
async def test_the_report_counts_what_the_stories_add_up_to(corpus: CorpusRun) -> None:
    expected = dict.fromkeys(("issued", "accepted", "refused", "expired", "withdrawn", "breached", "lost",
                              "reengaged", "corrected", "people"), 0)
    for story in STORIES:
        # A known failure adds what the services count today (`figures_today`), until its fix lands with the mark.
        figures = story.raw.get("figures_today" if "known_failure" in story.raw and "figures_today" in story.raw
                                else "figures") or {}
        expected["people"] += int(figures.get("people", 1))
        for name, value in figures.items():
            if name != "people":
                expected[name] += int(value)
    assert corpus.deadletters == []
    assert corpus.figures == expected
