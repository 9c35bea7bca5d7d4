"""Live service and auditor's replay over the same events give one digest; a tampered archive is named."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from contracts import topics
from contracts.territory import load_territory
from services.reporting.app import CONSUMES, definition
from services.reporting.domain.digest import digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import build_report
from services.reporting.store.replay import read_log, replay
from local.sample import sample_events
from services.reporting.store import tables
from services.runtime.credentials import CredentialsBook
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings

ROOT = Path(__file__).resolve().parents[3]


async def produce(bootstrap: str, prefix: str, pairs, poison: bytes) -> int:  # noqa: ANN001
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **admin_security(bootstrap), enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(prefix + topic, event.to_json_bytes(), key=event.subject.encode())
                   for topic, event in pairs]
        futures.append(await producer.send(prefix + topics.INTAKE, poison, key=b"p-poison"))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(futures)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "from cli.commands.reporting import app; app()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


async def test_live_and_replay_digests_match_and_tampering_is_named(
        kafka_bootstrap: str, topic_prefix: str, database_url_factory, tmp_path: Path) -> None:  # noqa: ANN001
    pairs = sample_events(people=30, seed=11)
    total = await produce(kafka_bootstrap, topic_prefix, pairs, poison=b'{"type": "fr.ariane.nonsense"}')
    territory = load_territory().id
    expected = digest(build_report(fold(e for _, e in pairs), territory=territory))

    book = CredentialsBook(tmp_path / "credentials.json")
    auditor = {"authorization": f"Bearer {book.issue('auditor', territory, label='the funder').token}"}
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=await database_url_factory("live"),
                             topic_prefix=topic_prefix, credentials_file=book.path)
    async with running_service(definition(), settings) as (app, client):
        engine = app.state.ctx.engine
        deadline = asyncio.get_running_loop().time() + 60
        while True:  # caught up when every record (the poison one included) is in the inbox
            async with engine.connect() as conn:
                seen = (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
            if seen >= total:
                break
            assert asyncio.get_running_loop().time() < deadline, f"live service saw {seen}/{total} records"
            await asyncio.sleep(0.2)
        live = (await client.get("/v1/report/digest", headers=auditor)).json()["digest"]
        report = (await client.get("/v1/report", headers=auditor)).json()
        csv_text = (await client.get("/v1/report", params={"format": "csv"}, headers=auditor)).text

    assert live == expected
    assert report["lost_reengaged"]["lost"] > 0 and report["exits"]
    assert csv_text.startswith("table,")

    # The auditor: the topics from offset 0 into a fresh store.
    result = await replay(read_log(kafka_bootstrap, [topic_prefix + t for t in CONSUMES]),
                          database_url=await database_url_factory("replay"), territory=territory)
    assert result.digest == live
    assert result.records == total and result.skipped_unparseable == 1

    # Export the log, check it, replay the archive, then alter one record and see it named.
    env = {"ARIANE_KAFKA_BOOTSTRAP": kafka_bootstrap, "ARIANE_TOPIC_PREFIX": topic_prefix,
           "ARIANE_VAR_DIR": str(tmp_path / "var")}
    archive = tmp_path / "log.jsonl.gz"
    assert cli("export-log", str(archive), env=env).returncode == 0
    ok = cli("verify-log", str(archive), env=env)
    assert ok.returncode == 0, ok.stderr
    replayed = cli("replay", "--archive", str(archive), "--format", "json", env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["digest"] == live

    with gzip.open(archive, "rb") as src:
        lines = [json.loads(line) for line in src]
    victim = lines[7]
    victim["key"] = "p-someone-else"
    with gzip.open(archive, "wb") as out:
        out.writelines(json.dumps(line).encode() + b"\n" for line in lines)
    bad = cli("verify-log", str(archive), env=env)
    assert bad.returncode == 1
    where = f"record {victim['i']} ({victim['topic']}/{victim['partition']}@{victim['offset']})"
    assert where in bad.stderr.replace("\n", ""), bad.stderr
