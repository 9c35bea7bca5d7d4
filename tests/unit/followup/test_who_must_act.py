"""Who followup names to act when nobody holds the person: the last holder, else the organisme référent (the
target of the latest orientation, else the structure that registered the person), else the coordinator."""

from __future__ import annotations

from datetime import timedelta

from builders import START, accepted, contact, entered, exited, expired, issued, refused, registered
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


CITE, CITE_OPERATOR = "cite_emploi_angers", "aldev_cite_emploi"
DEPARTEMENT = "departement_49"


@settings(max_examples=60, deadline=None)
@given(refused_on=st.sampled_from([4, 9, 20, 35]), leaves_the_cite=st.booleans())
def test_a_refused_side_referral_does_not_make_its_issuer_the_one_to_act_on_a_silence(refused_on, leaves_the_cite):
    # The chaos year's CD49 person: the Département registers her (day 0) and asks both the Cité (orientation)
    # and Par'Emploi (childcare); Par'Emploi refuses, before the Cité accepts (day 8), after it takes her in
    # (day 12), or after its last contact (day 30), always before the day the Cité could let her go. The Cité
    # accompanies her, then either lets her go on day 40 with nothing next or simply stops reaching her. She is
    # held all along (the Département's refused request keeps her held), so she is lost by silence, and the Cité,
    # which took her on and let her go, must act.
    events = [registered("p", 0, structure=DEPARTEMENT),
              issued("p", 1, "cite", to=CITE_OPERATOR, by=DEPARTEMENT, due_in=30),
              issued("p", 2, "garde", to="par_emploi", by=DEPARTEMENT, due_in=30),
              refused("p", refused_on, "garde", to="par_emploi"),
              accepted("p", 8, "cite", to=CITE_OPERATOR), entered("p", 12, CITE, CITE_OPERATOR),
              contact("p", 30, CITE_OPERATOR)]
    silent_since = 30
    if leaves_the_cite:
        events.append(exited("p", 40, CITE, CITE_OPERATOR))
        silent_since = 40
    lost = on(events, silent_since + RULES.thresholds.no_contact_days + 16)
    assert (lost.state, lost.reason, lost.structure_to_act) == (State.LOST, "no_contact", CITE_OPERATOR), lost


def test_a_referral_refused_to_someone_nobody_else_holds_leaves_its_issuer_to_act():
    # Story 19's shape: the issuer keeps the person after a refusal when nobody else holds them; silent for
    # no_contact_days after the refusal (no touch since registration), the issuer must act.
    ft = "france_travail_angers_centre"
    events = [registered("p", 0, structure=ft), issued("p", 1, "plie", to="plie_angers", by=ft, kind="prescription"),
              refused("p", 4, "plie", to="plie_angers")]
    lost = on(events, 4 + RULES.thresholds.no_contact_days + 16)
    assert (lost.state, lost.structure_to_act) == (State.LOST, ft), lost
