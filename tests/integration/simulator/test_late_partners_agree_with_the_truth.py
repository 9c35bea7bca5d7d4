"""Partners who record late, against the real services: a year whose partners send 15% of their events 1 to 10
days after the day they are dated (the person's later events waiting behind them), some of them answers to a
referral dated before its deadline and sent after it. Intake, referral and followup on the real broker, and
at the end:

* the people followed lost, less the losses followup withdrew as corrections (person.loss_corrected: a late
  fact showed the person was held), are exactly the truth's (who, why, since when, detected which day, who
  must act). The truth is the story as scripted (simulator/recorded.py), on the days things happened, whenever
  they were recorded; a difference is printed person by person;
* the referral service announced an expiry for exactly the referrals whose answer had not reached it by the
  tick after the deadline, whatever day the answer is dated.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace

import pytest

from contracts import topics
from contracts.events import parse_event
from local.drain import CaughtUp
from services.followup.app import definition as followup_definition
from services.intake.app import definition as intake_definition
from services.referral.app import definition as referral_definition
from simulator.driver import drive
from simulator.presets import get_preset
from simulator.senders import KafkaSender
from simulator.year import simulate
from tests.e2e.figures import LOST_FIELDS, render_people
from tests.integration.simulator.test_truth_agrees_with_the_services import _read, by_person
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings

LATE_SHARE = 0.15


# store_independent: followup's rules against the scripted truth; on PostgreSQL the e2e years (territory, late
# partners) make the same comparison through the same services.
@pytest.mark.slow
@pytest.mark.store_independent
async def test_late_and_back_dated_partner_events_give_the_scripted_truth(kafka_bootstrap: str, topic_prefix: str,
                                                                          database_url_factory) -> None:  # noqa: ANN001
    year = simulate(replace(get_preset("territory"), late_share=LATE_SHARE), people=60, seed=8, days=240)
    truth = year.truth()
    late = truth["report"]["late"]
    assert late["events_sent_late"] > 50 and late["answers_dated_in_time_sent_after_the_deadline"] >= 1, late
    # The story is the same whenever it is recorded: the year without late partners has the same truth.
    assert truth["lost"] == simulate("territory", people=60, seed=8, days=240).truth()["lost"]

    async with AsyncExitStack() as stack:
        for name, defn in (("intake", intake_definition()), ("referral", referral_definition()),
                           ("followup", followup_definition())):
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
                                     database_url=await database_url_factory(name))
            await stack.enter_async_context(running_service(defn, settings))
        quiet = await stack.enter_async_context(
            CaughtUp(kafka_bootstrap, topic_prefix, services=("intake", "referral", "followup")))
        sender = KafkaSender(kafka_bootstrap, topic_prefix, resolve_timeout_s=10,
                             security=admin_security(kafka_bootstrap))
        await sender.start()
        try:
            await drive(year.stream(), sender, drained=quiet)
        finally:
            await sender.stop()
        records = await _read(kafka_bootstrap, [topic_prefix + t for t in
                                                (topics.FOLLOWUP, topics.REFERRAL, topics.DEADLETTER)])
    assert sender.unresolved == 0, sender.unresolved_examples
    ref_of = {sender.directory.person_by_event[reg]: ref for ref, (_s, reg) in sender.rewriter.registrar.items()}
    dead = [r.value[:200] for r in records if r.topic.endswith(topics.DEADLETTER)]
    events = [parse_event(r.value) for r in records if not r.topic.endswith(topics.DEADLETTER)]
    corrected = {(ref_of[e.subject], str(e.data.reason), e.data.since.isoformat()) for e in events
                 if e.type.endswith("person.loss_corrected") and e.data.was_lost}
    lost = {(ref_of[e.subject], str(e.data.reason), e.data.since.isoformat(), e.data.detected_on.isoformat(),
             e.data.structure_to_act) for e in events if e.type.endswith("person.lost")}
    standing = {row for row in lost if row[:3] not in corrected}
    expected = {(r["partner_ref"], r["reason"], r["since"], r["detected_on"], r["structure_to_act"])
                for r in truth["lost"]}
    print(f"\n{late}; lost {len(lost)}, corrected {len(corrected)}, expected {len(expected)}")
    assert dead == []
    assert standing == expected, render_people(by_person(expected), by_person(standing), LOST_FIELDS,
                                               reported_as="followup")
    assert len(expected) >= 3
    expired = sum(1 for e in events if e.type.endswith("referral.expired"))
    assert expired == late["expiries_announced"]
