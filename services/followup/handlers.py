"""The thin shell: load a person's file, call the pure decision, store it, count it, emit what it says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import structlog
from sqlalchemy import func, or_, select

from contracts import topics
from contracts.envelope import Envelope
from services.followup import store
from services.followup.domain import Decision, PersonFile, Rules, State, Status, decide, ledger_balanced, merge
from services.followup.facts import fact_of
from services.followup.metrics import FollowupMetrics
from services.followup.store import KNOWN, MERGED, ActionRow, PersonRow
from services.runtime.unit_of_work import UnitOfWork

log = structlog.get_logger("ariane.followup")

URGENCY = {"lost": 0, "at_risk": 1, "checkin_missed": 2, "checkin_due": 3, "referral_expiring": 4}


def actions_of(person_id: str, status: Status, today: date | None, rules: Rules) -> list[ActionRow]:
    """Today's worklist lines for one person."""
    out: list[ActionRow] = []
    if status.state in (State.LOST, State.AT_RISK) and status.structure_to_act and status.since:
        kind = status.state.value
        out.append(ActionRow(person_id=person_id, structure_id=status.structure_to_act, kind=kind,
                             reason=status.reason or kind, since=status.since, urgency=URGENCY[kind]))
    missed = {c.id for c in status.checkins_missed}
    for c in status.checkins_due:
        kind = "checkin_missed" if c.id in missed else "checkin_due"
        out.append(ActionRow(person_id=person_id, structure_id=c.structure, kind=kind,
                             reason=f"{c.anchor}+{c.months}m", since=c.due_on, urgency=URGENCY[kind]))
    if today is not None:
        for ref, to, due in status.referrals_pending:
            if due is not None and due - today <= timedelta(days=rules.remind_days):
                out.append(ActionRow(person_id=person_id, structure_id=to, kind="referral_expiring",
                                     reason=ref[:64], since=due, urgency=URGENCY["referral_expiring"]))
    return out


@dataclass
class FollowupHandler:
    rules: Rules
    metrics: FollowupMetrics | None = None

    async def __call__(self, event: Envelope, uow: UnitOfWork) -> None:
        if event.short_type == "clock.day_started":
            await self.on_day_started(event, uow)
        elif event.short_type == "person.identities_merged":
            await self.on_identities_merged(event, uow)
        else:
            await self.on_fact(event, uow)

    async def on_fact(self, event: Envelope, uow: UnitOfWork) -> None:
        fact = fact_of(event)
        if fact is None:
            return
        row = await self._row(uow, await self._resolve(uow, event.subject))
        file = store.to_file(row).with_fact(fact)
        await self._apply(uow, row, file, event, await store.today(uow.session))

    async def on_identities_merged(self, event: Envelope, uow: UnitOfWork) -> None:
        kept_id = await self._resolve(uow, event.data.kept_person_id)
        merged_id = event.data.merged_person_id
        if kept_id == merged_id:
            return
        kept, gone = await self._row(uow, kept_id), await self._row(uow, merged_id)
        if gone.merged_into is not None:
            return
        file = merge(store.to_file(kept), store.to_file(gone))
        await store.ledger_add(uow.session, gone.state, -1)
        await store.ledger_add(uow.session, MERGED, 1)
        self._transition(gone.state, "merged")
        gone.state, gone.merged_into, gone.wake_on, gone.facts = None, kept_id, None, "[]"
        uow.session.add(gone)
        await store.replace_actions(uow.session, merged_id, [])
        await self._apply(uow, kept, file, event, await store.today(uow.session))

    async def on_day_started(self, event: Envelope, uow: UnitOfWork) -> None:
        await store.set_today(uow.session, event.data.day)
        day = await store.today(uow.session)
        rows = (await uow.session.execute(select(PersonRow).where(
            PersonRow.merged_into.is_(None), or_(PersonRow.wake_on <= day, PersonRow.state.in_(
                [State.AT_RISK.value, State.LOST.value]))).order_by(PersonRow.person_id))).scalars().all()
        for row in rows:
            await self._apply(uow, row, store.to_file(row), event, day)
        await self.check_ledger(uow)

    async def check_ledger(self, uow: UnitOfWork) -> dict:
        counts = await store.ledger_counts(uow.session)
        known, merged = counts.pop(KNOWN, 0), counts.pop(MERGED, 0)
        counts = {k: v for k, v in counts.items() if v}
        actual = await store.recount(uow.session)
        balanced = ledger_balanced(counts, known, merged) and counts == actual
        if not balanced:
            log.error("ledger_violation", counts=counts, recount=actual, known=known, merged=merged)
            if self.metrics:
                self.metrics.ledger_violations.inc()
        if self.metrics:
            for state in State:
                self.metrics.persons.labels(state.value).set(counts.get(state.value, 0))
            overdue = await uow.session.execute(
                select(func.count()).select_from(ActionRow).where(ActionRow.kind == "checkin_missed"))
            self.metrics.checkins_overdue.set(overdue.scalar_one())
        return {"counts": counts, "recount": actual, "known": known, "merged": merged, "balanced": balanced}

    async def _resolve(self, uow: UnitOfWork, person_id: str) -> str:
        seen = set()
        while person_id not in seen:
            seen.add(person_id)
            row = await uow.session.get(PersonRow, person_id)
            if row is None or row.merged_into is None:
                return person_id
            person_id = row.merged_into
        return person_id

    async def _row(self, uow: UnitOfWork, person_id: str) -> PersonRow:
        row = await uow.session.get(PersonRow, person_id)
        if row is None:
            row = PersonRow(person_id=person_id, state=State.AWAITING_ORIENTATION.value)
            await store.ledger_add(uow.session, KNOWN, 1)
            await store.ledger_add(uow.session, row.state, 1)
            uow.session.add(row)
        return row

    async def _apply(self, uow: UnitOfWork, row: PersonRow, file: PersonFile, cause: Envelope,
                     day: date | None) -> None:
        old = row.state
        decision: Decision = decide(file, day, cause, self.rules)
        store.write_file(row, decision.file, decision.status)
        uow.session.add(row)
        if old != row.state:
            await store.ledger_add(uow.session, old, -1)
            await store.ledger_add(uow.session, row.state, 1)
            self._transition(old, row.state)
        await store.replace_actions(uow.session, row.person_id,
                                    actions_of(row.person_id, decision.status, day, self.rules))
        for out in decision.events:
            await uow.emit(out, topics.FOLLOWUP)
        self._count(decision)
        if decision.events:
            log.info("decided", state=row.state, emitted=[e.short_type for e in decision.events])

    def _transition(self, old: str | None, new: str | None) -> None:
        if self.metrics and old != new:
            self.metrics.transitions.labels(old or "none", new or "none").inc()

    def _count(self, decision: Decision) -> None:
        if not self.metrics:
            return
        for e in decision.events:
            if e.short_type == "person.lost":
                self.metrics.lost.labels(str(e.data.reason), e.data.structure_to_act).inc()
            elif e.short_type == "followup.checkin_due":
                self.metrics.checkins_due.inc()
        for reason, by, days in decision.reengaged_after_days:
            self.metrics.reengaged.labels(reason, by).inc()
            self.metrics.lost_days.observe(days)
