"""Two person ids turn out to be one person (intake's `person.identities_merged`): the merged id's referrals,
orientation history and waiting answers are folded into the kept id's state. Pure.

- Every referral of either file is kept once. Two files with a live referral each to the same structure make
  one: an open referral joins the other file's open one (the earlier issued stays, with the acknowledgement
  either one received) or the other file's referral the structure has taken up (accepted, or first appointment
  held). The joined id becomes an alias, as when a partner prescription joins an open referral: answers naming
  either id apply to the one that stays, and the structure is not reminded nor expired twice for one person.
  Within one file nothing is joined: the merge changes neither file's own history.
- Rules fired for either file count as fired (`fired_rules`: the union), so no rule fires twice; structures that
  failed either file's référent chain are not tried again.
- Answers that waited for a referral the other file had apply now, with the merge as their cause (a refusal is
  re-oriented, an acceptance withdraws what its referral's expiry caused).
- Nothing else is decided at the merge: no rule fires on the two files' facts combined (the next fact about
  the person fires what then applies).
- The case is closed only if both files were closed; a file still followed keeps the person followed.
- The merged id keeps only `merged_into` (`tombstone`): the shell applies later facts about it to the kept id.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.envelope import Envelope
from contracts.territory import Territory
from services.referral.domain.lifecycle import (
    OPEN,
    Answer,
    Decision,
    PersonState,
    Referral,
    Status,
    _follow_up_failure,
    _replay_pending,
    _withdraw_caused,
    local_day,
)

TAKEN_UP = frozenset({Status.ACCEPTED, Status.CLOSED})


def is_blank(state: PersonState) -> bool:
    """Nothing was ever recorded under this id (a merge may arrive before any fact about either id)."""
    return state == PersonState(person_id=state.person_id)


def tombstone(merged_id: str, kept_id: str) -> PersonState:
    """What stays under the merged id: where its person is now."""
    return PersonState(person_id=merged_id, merged_into=kept_id)


def gathered(kept: PersonState, merged: PersonState) -> PersonState:
    """Both files side by side under the kept id, nothing folded yet: what the merge starts from, which the shell
    compares with its result (metrics count transitions, not referrals moving; the waiting room its answers)."""
    return kept.model_copy(update={"referrals": {**merged.referrals, **kept.referrals},
                                   "pending": _pending(kept, merged)})


def merge(kept: PersonState, merged: PersonState, cause: Envelope, territory: Territory) -> Decision:
    """The kept id's state once the merged id's is folded into it, and what that emits (only the follow-ups of
    answers that were waiting for a referral of the other file)."""
    if is_blank(merged):
        return Decision(state=kept)
    files = [s for s in (kept, merged) if not is_blank(s)]
    closed = [s.closed_on for s in files]
    registration = kept if kept.profile is not None else merged
    # A referral the kept file knows under another id (it joined one there) is not brought back.
    referrals = {**{k: r for k, r in merged.referrals.items() if k not in kept.aliases}, **kept.referrals}
    state = PersonState(
        person_id=kept.person_id, profile=registration.profile, registered_by=registration.registered_by,
        held_by_registrant=kept.held_by_registrant or merged.held_by_registrant,
        barriers={**merged.barriers, **kept.barriers}, dispositifs={**merged.dispositifs, **kept.dispositifs},
        employed=kept.employed or merged.employed, referrals=referrals,
        aliases={k: v for k, v in {**merged.aliases, **kept.aliases}.items() if k not in referrals},
        pending=_pending(kept, merged),
        fired_rules=tuple(dict.fromkeys(kept.fired_rules + merged.fired_rules)),
        closed_on=max(d for d in closed if d is not None) if all(closed) else None,
    )
    state = _join_duplicates(state, set(kept.referrals), set(referrals) - set(kept.referrals))
    return _apply_waiting(state, cause, territory)


def _pending(kept: PersonState, merged: PersonState) -> dict[str, tuple[Answer, ...]]:
    out = dict(kept.pending)
    for referral_id, answers in merged.pending.items():
        have = {a.event_id for a in out.get(referral_id, ())}
        out[referral_id] = out.get(referral_id, ()) + tuple(a for a in answers if a.event_id not in have)
    return out


def _first(referrals: Iterable[Referral]) -> Referral | None:
    return min(referrals, key=lambda r: (r.issued_on, r.referral_id), default=None)


def _join_duplicates(state: PersonState, kept_ids: set[str], merged_ids: set[str]) -> PersonState:
    """One live referral per structure across the two files (see the module's text)."""
    for structure in sorted({r.to_structure for r in state.referrals.values() if r.is_open}):
        mine, theirs = _open_in(state, kept_ids, structure), _open_in(state, merged_ids, structure)
        if mine is None and theirs is None:
            continue
        if mine is not None and theirs is not None:
            first = _first((mine, theirs))
            later = theirs if first is mine else mine
            state = _join(state, later, into=_with_answers_of(first, later))
            remaining = state.referrals[first.referral_id]
        else:
            remaining = mine or theirs
        assert remaining is not None
        other = merged_ids if remaining.referral_id in kept_ids else kept_ids
        taken = _first(r for k, r in state.referrals.items() if k in other and r.status in TAKEN_UP
                       and r.to_structure == structure)
        if taken is not None:
            state = _join(state, remaining, into=taken)
    return state


def _open_in(state: PersonState, ids: set[str], structure: str) -> Referral | None:
    return _first(r for k, r in state.referrals.items() if k in ids and r.is_open and r.to_structure == structure)


def _with_answers_of(first: Referral, later: Referral) -> Referral:
    """The open referral that stays carries what the structure already did about the other: its
    acknowledgement, the reminders it got; and it belongs to the référent chain if either did."""
    update: dict = {"referent_chain": first.referent_chain or later.referent_chain,
                    "reminded": tuple(dict.fromkeys(first.reminded + later.reminded))}
    acknowledged = [d for d in (first.acknowledged_on, later.acknowledged_on) if d is not None]
    if acknowledged:
        update |= {"acknowledged_on": min(acknowledged), "status": Status.ACKNOWLEDGED}
    return first.model_copy(update=update)


def _join(state: PersonState, gone: Referral, *, into: Referral) -> PersonState:
    """`gone` becomes an alias of `into`: its answers, its aliases and what it caused go to `into`."""
    kept_id, gone_id = into.referral_id, gone.referral_id
    referrals = {k: (r.model_copy(update={"caused_by": kept_id}) if r.caused_by == gone_id else r)
                 for k, r in state.referrals.items() if k != gone_id}
    referrals[kept_id] = into
    aliases = {k: (kept_id if v == gone_id else v) for k, v in state.aliases.items()}
    aliases[gone_id] = kept_id
    return state.model_copy(update={"referrals": referrals, "aliases": aliases})


def _apply_waiting(state: PersonState, cause: Envelope, territory: Territory) -> Decision:
    """Answers that waited for a referral the other file had: applied as they would have been on its arrival."""
    on = local_day(cause.time, territory)
    events: list[Envelope] = []
    for key in sorted(state.pending):
        target = state.aliases.get(key, key)
        before = state.referrals.get(target)
        if before is None:
            continue  # still unknown: it goes on waiting
        state = _replay_pending(state, target, territory.referral_sla, answered_as=key if key != target else None)
        after = state.referrals[target]
        if before.status in OPEN and after.status is Status.REFUSED:
            state, more = _follow_up_failure(state, after, cause, territory, on, cause.time,
                                             f"Refus de {after.to_structure} ({after.refusal_reason})")
            events += more
        if before.status not in TAKEN_UP and after.status in TAKEN_UP:
            state, more = _withdraw_caused(state, after, cause, territory, cause.time)
            events += more
    return Decision(state=state, events=tuple(events))
