"""Who may write and read the partners' topics on the local broker, as the ACL plan grants it."""

from __future__ import annotations

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from local.kafka.security import LITERAL, PREFIXED, READ, TOPIC, WRITE, acl_plan

PREFIX = "run1."


def _topic_grants(principal: str) -> set[tuple[str, int, int]]:
    return {(a.resource_name, a.operation, a.pattern) for a in acl_plan(PREFIX)
            if a.principal == principal and a.resource_type == TOPIC}


def test_each_partner_may_write_its_own_topic_and_nothing_else():
    for structure in load_territory(DEFAULT_TERRITORY_FILE).structures:
        assert _topic_grants(f"partner-{structure.id}") == {
            (f"run1.ariane.inbound.v1.{structure.id}", WRITE, LITERAL)}, structure.id


def test_only_intake_reads_the_partners_topics_and_nobody_has_the_old_shared_one():
    plan = acl_plan(PREFIX)
    partners_topics = [a for a in plan
                       if a.resource_type == TOPIC and a.resource_name.startswith("run1.ariane.inbound.v1")]
    readers = {(a.principal, a.resource_name, a.pattern) for a in partners_topics if a.operation == READ}
    assert readers == {("intake", "run1.ariane.inbound.v1.", PREFIXED)}
    assert all(a.principal.startswith("partner-") for a in partners_topics if a.operation == WRITE)
    assert not [a for a in plan if a.resource_name == "run1.ariane.inbound.v1"]
