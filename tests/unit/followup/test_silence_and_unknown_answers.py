"""Silence inside an accompaniment dispositif, and answers to referrals followup has not (or never) received.

Written from what the coordinator must see (tests/stories/40 and 34): a resident the Cité de l'emploi has not
reached for 90 days is at risk, lost 16 days later, re-engaged by the Cité's next contact; someone working for an
SIAE is never flagged for silence; an acceptance of a referral nobody sent holds nobody, and one whose referral
comes late (within the answer's wait) holds from its own date.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from builders import START, accepted, contact, entered, issued, job_started, registered, tick
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.territory import load_territory
from services.followup.domain import PersonFile, Rules, State, decide, status_of
from services.followup.domain.answers import received
from services.followup.domain.facts import fact_of

TERRITORY = load_territory()
RULES = Rules.of(TERRITORY, answer_wait_days=30)
CITE, ALDEV = "cite_emploi_angers", "aldev_cite_emploi"
PLIE = "plie_angers"


def day(n: int):
    return START + timedelta(days=n)


def file_of(pid: str, *events, received_on: dict[str, int] | None = None) -> PersonFile:
    """A person's file; `received_on` gives the day (of followup's clock) some events arrived."""
    f = PersonFile(pid)
    for e in events:
        fact = fact_of(e)
        arrived = (received_on or {}).get(e.id)
        f = f.with_fact(received(fact, day(arrived)) if arrived is not None else fact)
    return f


def in_the_cite(pid: str, last_contact: int, *more):
    return (registered(pid, 0), issued(pid, 1, "r1", to=ALDEV), accepted(pid, 3, "r1", to=ALDEV),
            entered(pid, 5, CITE, ALDEV), contact(pid, last_contact, ALDEV), *more)


class TestSilenceInAnAccompanimentDispositif:
    def test_the_territory_names_the_dispositifs_where_silence_counts(self):
        assert RULES.accompanying == {"cite_emploi_angers", "par_emploi_garde", "carbur_pera_mobilite",
                                      "plie_parcours"}

    def test_the_cite_not_reaching_a_resident_for_90_days_is_warned_then_loses_them(self):
        f = file_of("p", *in_the_cite("p", 40))
        assert status_of(f, day(129), RULES).state == State.IN_DISPOSITIF
        at_risk = status_of(f, day(130), RULES)  # 40 + 90
        assert (at_risk.state, at_risk.reason, at_risk.structure_to_act) == (State.AT_RISK, "no_contact", ALDEV)
        assert status_of(f, day(145), RULES).state == State.AT_RISK
        assert status_of(f, day(146), RULES).state == State.LOST  # 16 days later

    def test_the_cites_next_contact_reengages_them_by_the_cite(self):
        f = file_of("p", *in_the_cite("p", 40))
        f = decide(f, day(130), tick(130), RULES).file
        f = decide(f, day(146), tick(146), RULES).file
        back = decide(f.with_fact(fact_of(contact("p", 160, ALDEV))), day(160), contact("p", 160, ALDEV), RULES)
        assert back.status.state == State.IN_DISPOSITIF
        assert [(type(e).__name__, getattr(e.data, "by_structure", None)) for e in back.events] == [
            ("PersonReengaged", ALDEV)]

    def test_the_referent_still_accompanying_does_not_take_the_cites_reengagement(self):
        # France Travail registered and still accompanies them; the Cité's own call finds them again.
        events = in_the_cite("p", 40, contact("p", 2, "france_travail_angers_centre"))
        f = file_of("p", *events)
        f = decide(decide(f, day(130), tick(130), RULES).file, day(146), tick(146), RULES).file
        back = decide(f.with_fact(fact_of(contact("p", 160, ALDEV))), day(160), contact("p", 160, ALDEV), RULES)
        assert [getattr(e.data, "by_structure", None) for e in back.events] == [ALDEV]

    def test_someone_working_for_an_siae_is_never_flagged_for_silence(self):
        f = file_of("p", registered("p", 0), entered("p", 5, "iae_regie", "siae_regie_quartiers"))
        assert status_of(f, day(300), RULES).state == State.IN_DISPOSITIF

    def test_a_job_beside_the_cite_holds_whatever_the_silence(self):
        no_checkins = replace(RULES, thresholds=TERRITORY.followup.model_copy(update={"checkin_months": ()}))
        f = file_of("p", *in_the_cite("p", 40, job_started("p", 50, "j1", ALDEV, contract="cdi")))
        assert status_of(f, day(300), no_checkins).state == State.IN_EMPLOYMENT


@settings(max_examples=60, deadline=None)
@given(contacts=st.lists(st.integers(6, 300), max_size=6, unique=True), today=st.integers(6, 364),
       dispositif=st.sampled_from(sorted(TERRITORY.dispositifs_by_id)))
def test_a_dispositif_holds_as_long_as_someone_keeps_in_touch_if_it_accompanies(contacts, today, dispositif):
    """In an accompaniment dispositif the person is followed until no_contact_days after the last time anyone
    saw them, at risk then, lost lost_after_days - at_risk_after_days later; in the IAE or a training, always."""
    operator = TERRITORY.dispositifs_by_id[dispositif].operator
    events = [registered("p", 0), entered("p", 5, dispositif, operator),
              *(contact("p", c, operator) for c in contacts)]
    state = status_of(file_of("p", *events), day(today), RULES).state
    th = TERRITORY.followup
    last = max([c for c in contacts if c <= today] + [5])
    silent_for = today - last
    if dispositif not in RULES.accompanying or silent_for < th.no_contact_days:
        assert state == State.IN_DISPOSITIF
    elif silent_for < th.no_contact_days + th.lost_after_days - th.at_risk_after_days:
        assert state == State.AT_RISK
    else:
        assert state == State.LOST


class TestAnswersToReferralsNotReceived:
    def test_an_acceptance_of_a_referral_nobody_sent_holds_nobody(self):
        f = file_of("p", registered("p", 0), accepted("p", 7, "rx-unknown", to=PLIE))
        assert status_of(f, day(7), RULES).state == State.AWAITING_ORIENTATION
        assert status_of(f, day(200), RULES).holders == ()

    def test_the_referral_arriving_within_the_wait_holds_from_the_acceptances_date(self):
        events = (registered("p", 0), issued("p", 2, "rx", to=PLIE, kind="prescription"),
                  accepted("p", 8, "rx", to=PLIE))
        waiting = file_of("p", events[0], events[2], received_on={events[2].id: 8})
        assert status_of(waiting, day(13), RULES).state == State.AWAITING_ORIENTATION
        arrived = file_of("p", *events, received_on={events[2].id: 8, events[1].id: 14})
        assert status_of(arrived, day(14), RULES).state == State.ACCOMPANIED
        assert status_of(arrived, day(14), RULES).holders == (PLIE,)

    def test_the_referral_arriving_after_the_wait_leaves_the_answer_dropped(self):
        # Received on day 8, the answer waits from day 9 for 30 days: until day 39; the referral comes on day 40.
        events = (registered("p", 0), issued("p", 2, "rx", to=PLIE, kind="prescription"),
                  accepted("p", 8, "rx", to=PLIE))
        in_time = file_of("p", *events, received_on={events[2].id: 8, events[1].id: 39})
        too_late = file_of("p", *events, received_on={events[2].id: 8, events[1].id: 40})
        assert status_of(in_time, day(40), RULES).state == State.ACCOMPANIED
        assert status_of(too_late, day(40), RULES).state == State.REFERRED  # pending, the answer dropped

    def test_an_answer_in_order_is_unchanged(self):
        events = (registered("p", 0), issued("p", 2, "rx", to=PLIE), accepted("p", 8, "rx", to=PLIE))
        f = file_of("p", *events, received_on={events[1].id: 2, events[2].id: 8})
        assert status_of(f, day(8), RULES).state == State.ACCOMPANIED


@settings(max_examples=60, deadline=None)
@given(answer_day=st.integers(1, 100), today=st.integers(1, 200),
       story=st.sampled_from(("nothing", "cite", "iae", "contacted")))
def test_an_answer_to_a_referral_nobody_sent_changes_nothing(answer_day, today, story):
    """Whatever else happened, the person's state and holders are those of the story without that answer."""
    events = [registered("p", 0)]
    if story == "cite":
        events += [issued("p", 1, "r1", to=ALDEV), accepted("p", 3, "r1", to=ALDEV), entered("p", 5, CITE, ALDEV)]
    elif story == "iae":
        events += [entered("p", 4, "iae_regie", "siae_regie_quartiers")]
    elif story == "contacted":
        events += [contact("p", 10, "france_travail_angers_centre")]
    without = status_of(file_of("p", *events), day(today), RULES)
    with_it = status_of(file_of("p", *events, accepted("p", answer_day, "rx-nobody-sent", to=PLIE)),
                        day(today), RULES)
    assert (with_it.state, with_it.holders, with_it.reason) == (without.state, without.holders, without.reason)


def test_followup_counts_the_referral_services_own_wait(monkeypatch):
    """One setting for both services: the wait an answer gets is the referral service's, by default and when set."""
    from services.followup.settings import FollowupSettings
    from services.referral.settings import ReferralSettings

    assert FollowupSettings().referral_answer_wait_days == ReferralSettings().answer_wait_days
    monkeypatch.setenv("ARIANE_REFERRAL_ANSWER_WAIT_DAYS", "12")
    assert FollowupSettings().referral_answer_wait_days == ReferralSettings().answer_wait_days == 12


def test_a_silence_after_a_handover_is_the_new_operators_to_act_on():
    """The PLIE hands the person to the Cité the same day; the Cité never reaches them: the Cité must act."""
    from builders import exited
    f = file_of("p", registered("p", 0), entered("p", 2, "plie_parcours", PLIE),
                exited("p", 30, "plie_parcours", PLIE), entered("p", 30, CITE, ALDEV))
    status = status_of(f, day(120), RULES)
    assert (status.state, status.structure_to_act) == (State.AT_RISK, ALDEV)
