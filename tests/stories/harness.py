"""Partner stories against the real services: one broker, one set of services, one calendar for every story.

A story (one YAML file here) is a person's year told as dated partner events, with what the coordinator and the
structures must see on given days. The harness turns each line into the event a partner sends (to intake, over
Kafka or HTTP), plays the territory's clock day by day, and records what Ariane shows: the person's state, their
worklist lines, their referrals' outcomes, the alerts published about them, and the report's figures.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import topics
from contracts.clock import DayStarted, DayStartedData
from contracts.envelope import Envelope
from contracts.events import parse_event

try:  # a broker that authenticates its clients: the fixtures' principal
    from tests.support.kafka import admin_security
except ImportError:  # a plaintext broker
    def admin_security(bootstrap: str) -> dict[str, Any]:
        return {}

HERE = Path(__file__).parent
ZONE = ZoneInfo("Europe/Paris")
OPTIONAL_KEYS = ("title", "case", "story")



@dataclass
class Story:
    name: str
    raw: dict[str, Any]

    @property
    def person(self) -> dict[str, Any]:
        return self.raw["person"]

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.raw.get("events", [])

    @property
    def checks(self) -> list[dict[str, Any]]:
        return self.raw.get("expect", [])

    @property
    def ref(self) -> str:
        return f"story-{self.name}"

    def registration_ids(self) -> list[str]:
        """The partner event ids of the story's registrations: the person's own, then any line that registers
        someone again with its own `identity` (a near-duplicate, or another person with a close name)."""
        return [f"{self.ref}-0"] + [f"{self.ref}-{n}" for n, line in enumerate(self.events)
                                    if n and line["event"] == "person.registered" and "identity" in line]

    def arrival(self, line: dict[str, Any]) -> date:
        return line.get("arrives", line["day"])

    def events_until(self, first: date, last: date) -> list[dict[str, Any]]:
        """The story's lines, then the contacts its `keeps_in_touch: N` lines stand for: the line's structure
        reaches the person every N days after it (on the run's days first + k N, shared by every story so that
        the calendar gets few more days to settle), until the story's next exit from that structure's dispositif
        or closure, else the end of the run (`last`). A story that ends with the person accompanied says so; the
        calendar runs on for the other stories, and an accompaniment nobody keeps up is a silence that counts."""
        out = list(self.events)
        for n, line in enumerate(self.events):
            if not line.get("keeps_in_touch"):
                continue
            by, every = line["by"], int(line["keeps_in_touch"])
            stops = [_day(x["day"]) for x in self.events[n + 1:] if x["event"] == "case.closed"
                     or (x["event"] == "dispositif.exited" and x["by"] == by)]
            until = min([*stops, last])
            start = _day(line["day"])
            day = first + timedelta(days=every * ((start - first).days // every + 1))
            while day < until:
                out.append({"day": day, "by": by, "event": "contact.recorded",
                            **({"about": line["about"]} if "about" in line else {})})
                day += timedelta(days=every)
        return out


def load_stories() -> list[Story]:
    return [Story(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(HERE.glob("*.yaml"))]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), ZONE)


class Unresolved(LookupError):
    pass


@dataclass
class Seen:
    """What Ariane published, read back from its topics: what partners and the coordinator are told."""

    person_of_registration: dict[str, str] = field(default_factory=dict)  # partner registration id -> person
    referrals: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    checkins: dict[str, dict[tuple[str, int], str]] = field(default_factory=lambda: defaultdict(dict))
    alerts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    deadletters: list[str] = field(default_factory=list)  # letters about no story's person
    letters: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # person -> "<day> <reason>"
    day: date | None = None  # the day being played: when a letter was read

    def learn(self, topic: str, value: bytes) -> None:
        if topic.endswith(topics.DEADLETTER):
            person, reason = _letter_about(value)
            if person is None:
                self.deadletters.append(value[:300].decode(errors="replace"))
            else:
                self.letters[person].append(f"{self.day} {reason}")
            return
        event = parse_event(value)
        kind = event.type.removeprefix("fr.ariane.")
        day = event.time.astimezone(ZONE).date().isoformat()
        if kind == "person.registered":  # intake republishes a registration under the partner's event id
            self.person_of_registration.setdefault(event.id, event.subject)
        elif kind == "referral.issued":
            self.referrals[event.subject].append((event.data.to_structure, event.data.referral_id))
        elif kind == "followup.checkin_due":
            d = event.data
            self.checkins[event.subject][(str(d.anchor), d.months_after)] = d.checkin_id
        if kind == "followup.checkin_due":
            d = event.data
            self.alerts[event.subject].append(f"{day} checkin_due {d.anchor}+{d.months_after}m {d.structure_id}")
        elif kind in ("person.at_risk", "person.lost"):
            d = event.data
            self.alerts[event.subject].append(f"{day} {kind.split('.')[1]} {d.reason} {d.structure_to_act}")
        elif kind == "person.reengaged":
            self.alerts[event.subject].append(f"{day} reengaged by {event.data.by_structure}")
        elif kind == "person.loss_corrected":
            self.alerts[event.subject].append(f"{day} loss_corrected held by {event.data.held_by}")
        elif kind == "case.closed" and event.source.startswith("ariane/"):
            self.alerts[event.subject].append(f"{day} closed {event.data.reason}")


def _letter_about(value: bytes) -> tuple[str | None, str]:
    """The person a dead letter's original event is about (its subject), and the letter's reason."""
    try:
        letter = json.loads(value)
        original = json.loads(base64.b64decode(letter["original_base64"]))
        return str(original["subject"]), str(letter["reason"])
    except (ValueError, KeyError, TypeError):
        return None, ""


class TopicReader:
    """Reads Ariane's own topics from the beginning (committed records only) into `Seen`."""

    NAMES = (topics.INTAKE, topics.REFERRAL, topics.FOLLOWUP, topics.DEADLETTER)

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap, self.prefix, self.seen = bootstrap, prefix, Seen()
        self.consumer: AIOKafkaConsumer | None = None
        self.parts: list[TopicPartition] = []

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", auto_offset_reset="earliest",
                                         **admin_security(self.bootstrap))
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()  # noqa: SLF001 - topics created before the start
        self.parts = [TopicPartition(self.prefix + n, p) for n in self.NAMES
                      for p in self.consumer.partitions_for_topic(self.prefix + n) or ()]
        self.consumer.assign(self.parts)
        await self.consumer.seek_to_beginning(*self.parts)

    async def stop(self) -> None:
        if self.consumer:
            await self.consumer.stop()

    async def catch_up(self) -> None:
        assert self.consumer is not None
        ends = await self.consumer.end_offsets(self.parts)
        deadline = time.monotonic() + 30
        while any([await self.consumer.position(tp) < ends[tp] for tp in self.parts]):
            if time.monotonic() > deadline:
                raise TimeoutError("Ariane's topics could not be read to their end")
            for records in (await self.consumer.getmany(timeout_ms=100, max_records=5000)).values():
                for record in records:
                    self.seen.learn(record.topic[len(self.prefix):], record.value)


def _identity(story: Story, line: dict[str, Any] | None = None) -> dict[str, Any]:
    """The identity a registration carries: the story's own names (`person: {first_names, last_name,
    birth_date}`) or names made from the story's file name; a registration line with `identity` gives what
    that structure wrote instead (the rest as the story's)."""
    digest = hashlib.sha256(story.name.encode()).hexdigest()
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in digest[:10])
    born = int(story.person["born"])
    out = {"last_name": f"Recit{letters[:6]}", "first_names": f"Camille {letters[6:]}",
           "birth_date": f"{born}-{1 + int(digest[10:12], 16) % 12:02d}-{1 + int(digest[12:14], 16) % 28:02d}"}
    for source in (story.person, (line or {}).get("identity") or {}):
        out.update({k: str(source[k]) for k in ("last_name", "first_names", "birth_date") if k in source})
    return out


def person_of(story: Story, line: dict[str, Any], seen: Seen) -> str | None:
    """The person a line is about: the story's person, or with `about: second` the one its second
    registration (the line with `identity`) gave."""
    ids = story.registration_ids()
    registration = ids[1] if line.get("about") == "second" and len(ids) > 1 else ids[0]
    return seen.person_of_registration.get(registration)


def build_event(story: Story, n: int, line: dict[str, Any], seen: Seen) -> Envelope:
    """The partner event a story line stands for, with the references a partner would have learnt."""
    kind, by, on = line["event"], line["by"], _day(line["day"])
    person = person_of(story, line, seen)
    if kind == "person.registered":
        # A registration with its own `identity` is another file, with its own number, at that structure.
        event_id = f"{story.ref}-{n}" if n and "identity" in line else f"{story.ref}-0"
        p = {**story.person, **(line.get("identity") or {})}
        identity = _identity(story, line)
        subject = f"{by}:{event_id}" if event_id != f"{story.ref}-0" else f"{by}:{story.ref}"
        data: dict[str, Any] = {
            "structure_id": by, "registered_on": on.isoformat(), "birth_year": int(identity["birth_date"][:4]),
            "commune_insee": "49007", "qpv_resident": bool(p.get("qpv", False)), "rqth": bool(p.get("rqth", False)),
            "rsa": bool(p.get("rsa", False)), "single_parent": bool(p.get("single_parent", False)),
            "education_level": str(p.get("education", "4")),
            "partner_ref": story.ref if event_id == f"{story.ref}-0" else event_id, "identity": identity}
    else:
        if person is None:
            raise Unresolved("the person's registration is not published yet")
        subject, event_id = person, f"{story.ref}-{n}"
        data = _data(story, kind, by, line, person, seen)
    return parse_event({
        "specversion": "1.0", "id": event_id, "source": by, "type": f"fr.ariane.{kind}", "subject": subject,
        "time": _at(on, int(line.get("hour", 10))).isoformat(), "datacontenttype": "application/json",
        "data": data})


def _referral_id(person: str, line: dict[str, Any], seen: Seen) -> str:
    if "referral_id" in line:
        return line["referral_id"]
    to = line.get("referral", line["by"])
    ids = [rid for target, rid in seen.referrals.get(person, []) if target == to]
    if not ids:
        raise Unresolved(f"no referral to {to} published yet")
    return ids[-1]


def _data(story: Story, kind: str, by: str, line: dict[str, Any], person: str, seen: Seen) -> dict[str, Any]:
    on = _day(line["day"])
    counsellor = {"counsellor_ref": line["counsellor"]} if "counsellor" in line else {}
    if kind == "referral.accepted":
        return {"referral_id": _referral_id(person, line, seen), "structure_id": by, **counsellor}
    if kind in ("referral.acknowledged", "referral.first_appointment_held"):
        return {"referral_id": _referral_id(person, line, seen), "structure_id": by}
    if kind == "referral.refused":
        return {"referral_id": _referral_id(person, line, seen), "structure_id": by,
                "reason_code": line.get("reason", "no_capacity")}
    if kind == "referral.issued":
        return {"referral_id": line["referral_id"], "kind": "prescription", "from_structure": by,
                "to_structure": line["to"], "reason": line.get("reason", "Prescription"),
                "due_date": (on + timedelta(days=int(line.get("due_in", 15)))).isoformat(),
                **({"dispositif_id": line["dispositif"]} if "dispositif" in line else {})}
    if kind == "contact.recorded":
        return {"structure_id": by, "channel": line.get("channel", "phone"), "reached": bool(line.get("reached", True))}
    if kind == "dispositif.entered":
        return {"dispositif_id": line["dispositif"], "structure_id": by, **counsellor}
    if kind == "caseload.transferred":
        return {"transfer_id": line["transfer"], "from_structure": by, "to_structure": line["to"],
                "effective_on": _day(line.get("effective", line["day"])).isoformat(),
                "reason": line.get("reason", "other"),
                **{field: line[key] for key, field in (("from_counsellor", "from_counsellor"),
                                                      ("to_counsellor", "to_counsellor")) if key in line}}
    if kind == "dispositif.exited":
        step = line.get("next_step")
        return {"dispositif_id": line["dispositif"], "structure_id": by,
                "exit_class": line.get("exit_class", "autre"),
                **({"next_step": {"kind": step["kind"], "target_id": step["target"]}} if step else {})}
    if kind == "job.started":
        data = {"job_id": line["job"], "employer": line.get("employer", "Entreprise angevine"),
                "contract_type": line.get("contract", "cdi"), "hours_per_week": int(line.get("hours", 35)),
                "structure_id": by}
        if "until" in line:
            data["expected_end"] = _day(line["until"]).isoformat()
        return data
    if kind == "job.ended":
        return {"job_id": line["job"], "reason": line.get("reason", "end_of_contract")}
    if kind == "training.started":
        return {"training_id": line["training"], "qualifying": True, "structure_id": by,
                **({"expected_end": _day(line["until"]).isoformat()} if "until" in line else {})}
    if kind == "training.ended":
        return {"training_id": line["training"], "qualifying": True, "completed": bool(line.get("completed", True))}
    if kind == "followup.checkin_done":
        if "checkin_id" in line:  # an id given as the partner wrote it (a check-in Ariane never announced)
            checkin_id = line["checkin_id"]
        else:
            anchor, months = line["checkin"].split("+")
            checkin_id = seen.checkins.get(person, {}).get((anchor, int(months.rstrip("m"))))
        if checkin_id is None:
            raise Unresolved(f"check-in {line['checkin']} not announced yet")
        reached = bool(line.get("reached", True))
        return {"checkin_id": checkin_id, "structure_id": by, "reached": reached,
                **({"situation": line["situation"]} if "situation" in line else {})}
    if kind == "case.closed":
        return {"reason": line.get("reason", "moved_away")}
    if kind == "person.profile_updated":
        return {"structure_id": by, **{k: line[k] for k in ("rsa", "rqth", "qpv_resident", "single_parent") if k in line}}
    if kind == "barrier.identified":
        return {"barrier_id": f"{story.ref}-{line['barrier']}", "kind": line["barrier"],
                "impact": line.get("impact", "high"), "structure_id": by}
    raise ValueError(f"story {story.name}: unknown event {kind}")


def tick(day: date) -> DayStarted:
    return DayStarted(id=f"clock-{day.isoformat()}", source="ariane/clock", subject="clock",
                      time=datetime.combine(day, dtime(0), ZONE), data=DayStartedData(day=day))


@dataclass
class Observation:
    state: str | None
    worklist: list[str]
    referrals: list[str]
    reviews: list[str] | None = None  # the statuses of the identity reviews about the story's people


def referral_outcome(row: dict[str, Any]) -> str:
    status = row["status"]
    if status in ("accepted", "closed") and row.get("sla_breached"):
        return f"{row['to_structure']}: {status} late"
    return f"{row['to_structure']}: {status}"


async def send_all(producer: AIOKafkaProducer, prefix: str, events: list[tuple[str, Envelope]]) -> None:
    futures = [await producer.send(prefix + topic, e.to_json_bytes(), key=topics.key_for(e.subject))
               for topic, e in events]
    await asyncio.gather(*futures)


def partner_security(bootstrap: str, structure_id: str) -> dict[str, Any]:
    """A partner's own principal on the test broker (nothing for a plaintext one)."""
    try:
        from services.runtime.kafka_security import client_security
    except ImportError:  # pragma: no cover - a plaintext broker
        return {}
    return client_security(bootstrap, f"partner-{structure_id}")


class PartnerChannel:
    """The Kafka channel of the stories: each structure sends its events on its own topic
    (ariane.inbound.v1.<structure id>), logged in as itself, the only principal the broker lets write there."""

    def __init__(self, bootstrap: str, prefix: str):
        self.bootstrap, self.prefix = bootstrap, prefix
        self.producers: dict[str, AIOKafkaProducer] = {}

    async def _producer(self, structure_id: str) -> AIOKafkaProducer:
        if structure_id not in self.producers:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                        **partner_security(self.bootstrap, structure_id))
            await producer.start()
            self.producers[structure_id] = producer
        return self.producers[structure_id]

    async def send(self, events: list[Envelope]) -> None:
        futures = [await (await self._producer(e.source)).send(self.prefix + topics.inbound_topic(e.source),
                                                               e.to_json_bytes(), key=topics.key_for(e.subject))
                   for e in events]
        await asyncio.gather(*futures)

    async def stop(self) -> None:
        for producer in self.producers.values():
            await producer.stop()
