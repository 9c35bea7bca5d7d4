"""Who followup names to act when nobody holds the person: the last holder, else the organisme référent (the
target of the latest orientation, else the structure that registered the person), else the coordinator."""

from __future__ import annotations

from datetime import timedelta

from builders import START, entered, exited, expired, issued, registered
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.territory import load_territory
from services.followup.domain import PersonFile, Rules, State, status_of
from services.followup.domain.facts import fact_of

RULES = Rules.of(load_territory())  # at risk 14 days after the gap opens, lost after 30
COORDINATOR = "coordination_territoriale"
REFERENTS = ("france_travail_angers_centre", "france_travail_angers_est", "mission_locale_angevine",
             "cap_emploi_49", "departement_49", "mission_emploi_trelaze")
SIAE = "siae_atelier_chantier"


def file_of(events):
    f = PersonFile("p")
    for e in events:
        f = f.with_fact(fact_of(e))
    return f


def on(events, n):
    return status_of(file_of(events), START + timedelta(days=n), RULES)


def test_a_prescription_nobody_answers_names_the_referent_who_registered_the_person_and_sent_it():
    # Story 41: France Travail registers the person on day 0, prescribes the Atelier chantier on day 7 (due day
    # 22); the SIAE never answers and the prescription expires. France Travail must act, not the coordinator.
    ft = "france_travail_angers_centre"
    events = [registered("p", 0, structure=ft),
              issued("p", 7, "rx", to=SIAE, kind="prescription", by=ft),
              expired("p", 23, "rx", to=SIAE, due_day=22)]
    at_risk, lost = on(events, 36), on(events, 52)
    assert (at_risk.state, at_risk.reason, at_risk.structure_to_act) == (State.AT_RISK, "referral_expired", ft)
    assert (lost.state, lost.reason, lost.structure_to_act) == (State.LOST, "referral_expired", ft)


def test_with_no_registration_known_the_coordinator_is_named():
    # Only the referral service has spoken of this person: no structure has a file, the coordinator decides.
    events = [issued("p", 7, "rx", to=SIAE, kind="prescription"), expired("p", 23, "rx", to=SIAE, due_day=22)]
    assert on(events, 52).structure_to_act == COORDINATOR


# Dispositifs with no post-exit check-in, by operator: a stint in one ends with nobody holding and nothing else due.
STINTS = {"par_emploi": "par_emploi_garde", "carbur_pera": "carbur_pera_mobilite",
          "siae_regie_quartiers": "iae_regie"}


@settings(max_examples=200, deadline=None)
@given(registrant=st.sampled_from(REFERENTS),
       oriented_to=st.one_of(st.none(), st.sampled_from(REFERENTS)),
       held_by=st.one_of(st.none(), st.sampled_from(sorted(STINTS))),
       order=st.randoms(use_true_random=False))
def test_the_structure_named_follows_holder_then_orientation_then_registration(registrant, oriented_to, held_by,
                                                                                order):
    # A person registered by `registrant`; maybe oriented to `oriented_to`, which never answers; maybe in a
    # dispositif run by `held_by` for a while, left with no next step; in any case a last prescription to the
    # SIAE expires unanswered. Facts arrive in any order (a registration arriving last included).
    assume(oriented_to != registrant)  # a referral goes to another structure
    events = [registered("p", 0, structure=registrant)]
    if oriented_to:
        events += [issued("p", 1, "or", to=oriented_to, by=registrant),
                   expired("p", 17, "or", to=oriented_to, due_day=16)]
    if held_by:
        events += [entered("p", 3, STINTS[held_by], held_by), exited("p", 20, STINTS[held_by], held_by)]
    events += [issued("p", 21, "rx", to=SIAE, kind="prescription", by=registrant),
               expired("p", 37, "rx", to=SIAE, due_day=36)]
    order.shuffle(events)
    status = on(events, 80)
    assert status.state == State.LOST, status
    assert status.structure_to_act == (held_by or oriented_to or registrant), (registrant, oriented_to, held_by)
