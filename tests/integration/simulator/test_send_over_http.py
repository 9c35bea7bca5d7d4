"""A small preset sent to the real intake over HTTP, each structure with its own API key: registrations
teach the sender the person_ids, so other structures' events are accepted under the person_id."""

from __future__ import annotations

from contracts.territory import load_territory
from services.intake.store import credentials
from services.intake.app import definition
from simulator.directory import REFERRAL_PLACEHOLDER
from simulator.driver import drive
from simulator.senders import HttpSender
from simulator.year import simulate
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings


async def test_partners_post_their_events_with_their_keys(kafka_bootstrap: str, topic_prefix: str,
                                                          database_url: str) -> None:
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    year = simulate("cite-emploi-angers", people=8, seed=5, days=45)
    async with running_service(definition(), settings) as (app, client):
        ctx = app.state.ctx
        keys = {}
        async with ctx.session_factory() as session, session.begin():
            for structure in load_territory().structures:
                keys[structure.id] = (await credentials.add_key(session, ctx.deps.vault, structure.id)).token
        # No referral service here: answers to its referrals cannot be resolved and are dropped, counted.
        sender = HttpSender("http://service.test", keys, kafka_bootstrap, topic_prefix, client=client,
                            security=admin_security(kafka_bootstrap),
                            resolve_timeout_s=0.2, learn_from_topics=False)
        await sender.start()
        try:
            stats = await drive(year.stream(), sender)
        finally:
            await sender.stop()
    events = [e for d in year.stream() for e in d.events]
    placeholders = [e for e in events if str(getattr(e.data, "referral_id", "")).startswith(REFERRAL_PLACEHOLDER)]
    registrations = [e for e in events if e.type.endswith("person.registered")]
    assert stats.events == len(events) and registrations and placeholders
    assert sender.rejected == []
    assert sender.unresolved == len(placeholders)
    assert sender.sent == len(events) - len(placeholders)
    assert set(sender.directory.person_by_event) == {e.id for e in registrations}
    assert all(pid.startswith("p_") for pid in sender.directory.person_by_event.values())
