"""The truth of a simulated year as its stories were written: what the coordinator must see, from what each
person's script recorded when it decided their story (told.py), with the territory's thresholds.

A loss the story means (nobody picks the person up from day D) is at risk on D + at_risk_after_days and lost
on D + lost_after_days (plus the silence's grace for no_contact: a silence is noticed after no_contact_days),
the structure the story names must act, and the structure that finds them again re-engages them. The year's
end state is the last chapter of the story: closed, lost, at risk, between two steps, held (by whom) or
waiting. Referral outcomes are the answers the story gave, on the days it gave them. Nothing here replays the
events through a model of who holds whom (that is truth.py, kept as a second opinion).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from contracts.territory import Territory

from simulator.script import PersonScript
from simulator.truth_document import person_entry, truth_document
from simulator.told import Loss, Told, ToldReferral


def _iso(start: date, day: int | None) -> str | None:
    return (start + timedelta(days=day)).isoformat() if day is not None else None


def loss_days(loss: Loss, territory: Territory) -> tuple[int, int]:
    """(at risk on, detected lost on) for a loss, as day numbers."""
    th = territory.followup
    assert loss.since is not None, "a silence is settled when the script is finished"
    return loss.since + th.at_risk_after_days + loss.grace, loss.since + th.lost_after_days + loss.grace


def referral_outcome(ref: ToldReferral, horizon: int) -> str:
    """What the referral service must say of a referral at the end of the year (by the days things happened):
    accepted, accepted_late (accepted after the day following its due date, when it has expired), refused,
    expired, pending."""
    expiry = ref.due + 1
    answered = ref.answered if ref.answered is not None and ref.answered < horizon else None
    if answered is not None and ref.answer == "refused" and answered < expiry:
        return "refused"
    if answered is not None and ref.answer in ("on_time", "late"):
        return "accepted_late" if answered >= expiry and expiry < horizon else "accepted"
    return "expired" if expiry < horizon else "pending"


def expiry_announced(ref: ToldReferral, arrival: dict[str, int], horizon: int) -> bool:
    """Whether Ariane announces the expiry: no answer had reached it by the tick after the due date (an answer
    dated in time and recorded late included)."""
    expiry = ref.due + 1
    if expiry >= horizon:
        return False
    if ref.answered is None or ref.answer_event is None:
        return True
    return arrival.get(ref.answer_event, ref.answered) >= expiry


def final_state(told: Told, territory: Territory, last: int) -> tuple[str, tuple[str, ...]]:
    """The person's state at the end of day `last`, and who holds them then."""
    th = territory.followup
    if told.closed is not None and told.closed[1] <= last:
        return "closed", ()
    chapter = told.chapter_on(last)
    holders = chapter.holders if chapter else ()
    if told.referent_since is not None and told.referent_since[1] <= last:
        holders = tuple(sorted({*holders, told.referent_since[0]}))
    state = None
    for loss in told.losses:
        at_risk_on, lost_on = loss_days(loss, territory)
        if loss.since is not None and loss.since <= last and (loss.found is None or loss.found > last):
            if lost_on <= last:
                return "lost", ()
            if at_risk_on <= last:
                return "at_risk", ()
            if loss.reason != "no_contact":
                state = "between"
    # A check-in that could not reach the person, its grace passed and nobody seen them since: at risk.
    if any(due + th.checkin_grace_days <= last and (told.last_seen(last + 1) or 0) <= due
           for due in told.unreached_checkins):
        return "at_risk", holders
    if state is not None:
        return state, ()
    if chapter is None:
        return "unknown", ()
    if holders:
        return "held", holders
    if chapter.gap is None:
        return "waiting", ()
    since = chapter.since if chapter.since is not None else chapter.day
    return ("at_risk" if last >= since + th.at_risk_after_days else "between"), ()


def at_risk_reasons(told: Told, territory: Territory, last: int) -> list[str]:
    """Why the person was at risk during the year, once per episode: every stretch with nobody holding them
    that lasted at_risk_after_days (a loss, or a late acceptance), every silence that lasted no_contact_days,
    and every check-in that could not reach them, its grace passed with nobody seeing them since, while they
    were not already at risk."""
    th = territory.followup
    reasons: list[str] = []
    risky: list[tuple[int, int]] = []  # (at risk from, until) of the episodes above
    chapters = [c for c in sorted(told.chapters, key=lambda c: (c.day, c.order))]
    for n, chapter in enumerate(chapters):
        if chapter.holders or chapter.gap is None or told.chapter_on(chapter.day) is not chapter:
            continue
        ends = next((c.day for c in chapters[n + 1:] if c.holders), last + 1)
        at_risk_on = (chapter.since if chapter.since is not None else chapter.day) + th.at_risk_after_days
        if at_risk_on <= min(ends, last):  # decided on the tick, before that day's pickup
            reasons.append(chapter.gap)
            risky.append((at_risk_on, ends))
    for loss in told.losses:
        at_risk_on, _lost_on = loss_days(loss, territory)
        ends = loss.found if loss.found is not None else last + 1
        if loss.reason == "no_contact" and at_risk_on <= last and ends >= at_risk_on:
            reasons.append(loss.reason)
            risky.append((at_risk_on, ends))
    for due in told.unreached_checkins:
        missed = due + th.checkin_grace_days
        if missed <= last and (told.last_seen(missed + 1) or 0) <= due and \
                not any(a <= missed < b for a, b in risky):
            reasons.append("checkin_missed")
    return reasons


def recorded_truth(scripts: list[PersonScript], territory: Territory, start: date, horizon: int) -> dict[str, Any]:
    """The truth of the year from the stories as recorded, in truth.json's shape."""
    last = horizon - 1
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    late: Counter[str] = Counter()
    reviews: Counter[str] = Counter()
    lost_rows: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    final_states: Counter[str] = Counter()
    at_risk_flags: Counter[str] = Counter()
    for script in scripts:
        told = script.told
        for ref in told.referrals:
            if ref.issued >= horizon:
                continue
            outcomes[ref.kind]["issued"] += 1
            outcomes[ref.kind][referral_outcome(ref, horizon)] += 1
            announced = expiry_announced(ref, script.arrival, horizon)
            late["expiries_announced"] += announced
            late["answers_dated_in_time_sent_after_the_deadline"] += announced and referral_outcome(
                ref, horizon) in ("accepted", "refused")
        late["events_sent_late"] += len(script.arrival)
        for review in told.reviews:  # opened on the second registration, decided as the story wrote it
            reviews["opened"] += 1
            reviews[review.decision] += review.decided < horizon
        at_risk_flags.update(at_risk_reasons(told, territory, last))
        lost_here = []
        for loss in told.losses:
            at_risk_on, lost_on = loss_days(loss, territory)
            if lost_on > last or (loss.found is not None and loss.found < lost_on):
                continue  # not lost within the year, or found again before (the day's tick decides first)
            found = loss.found if loss.found is not None and loss.found < horizon else None
            lost_here.append(found is None)
            lost_rows.append({
                "person": script.person.key, "partner_ref": script.partner_ref, "reason": loss.reason,
                "since": _iso(start, loss.since), "at_risk_on": _iso(start, at_risk_on),
                "detected_on": _iso(start, lost_on), "structure_to_act": loss.to_act,
                "reengaged_on": _iso(start, found), "reengaged_by": loss.found_by if found is not None else None})
        state, holders = final_state(told, territory, last)
        final_states[state] += 1
        people.append(person_entry(script, start, horizon, {
            "state": state, "holders": list(holders), "lost": any(lost_here),
            "closed": told.closed[0] if told.closed and told.closed[1] <= last else None}))

    return truth_document(scripts, territory, start, horizon, people=people, lost_rows=lost_rows,
                          outcomes=outcomes, at_risk_flags=at_risk_flags, final_states=final_states, late=late,
                          reviews=reviews)
