"""What becomes of a person once their route is set: the events of each plot (presets.PLOTS), then the
check-ins the structures answer for the jobs and exits the plot led to (suivi post-sortie)."""

from __future__ import annotations

from collections.abc import Callable

from contracts.followup import CaseClosed, CaseClosedData, CheckinDone, CheckinDoneData
from contracts.pathway import (DispositifExited, DispositifExitedData, JobEnded, JobEndedData, JobStarted,
                               JobStartedData, NextStep, TrainingEnded, TrainingEndedData, TrainingStarted,
                               TrainingStartedData)
from contracts.people import ContactRecorded, ContactRecordedData
from contracts.vocabulary import (CheckinOutcome, CloseReason, ContactChannel, ContractType, ExitClass,
                                  JobEndReason, NextStepKind)

from simulator.parcours import add_months, checkin_ref
from simulator.people import weighted
from simulator.story import Anchor, Story
from simulator.told import Loss

EMPLOYERS = ("Boulangerie du Ralliement", "Transports Angevins", "Clinique de l'Anjou", "Logistique Loire Ouest",
             "Restaurant La Doutre", "Maraîchage Saint-Barthélemy", "Nettoyage Pro 49", "Supermarché Monplaisir",
             "BTP Maine-et-Loire", "EHPAD Les Capucins", "Mairie de Trélazé", "Garage de la Roseraie")
LASTING_CONTRACTS = {ContractType.CDI: 4, ContractType.CDD: 3, ContractType.INTERIM: 1, ContractType.CREATION: 1,
                     ContractType.ALTERNANCE: 1}
SHORT_CONTRACTS = {ContractType.CDD: 3, ContractType.INTERIM: 3, ContractType.CONTRAT_AIDE: 2}
SHORT_JOB_ENDS = (JobEndReason.END_OF_CONTRACT, JobEndReason.END_OF_CONTRACT, JobEndReason.TRIAL_PERIOD,
                  JobEndReason.RESIGNATION)


def play_plot(st: Story) -> None:
    play = PLOT_SCRIPTS.get(st.script.plot)
    if play is not None:
        play(st)


# --------------------------------------------------------------------------- the plots


def job_lasting(st: Story) -> None:
    job_id, job_end = start_job(st, st.plot_day, lasting=True, n=1)
    contract_ends(st, job_id, job_end)


def training(st: Story) -> None:
    day, holder = st.plot_day, st.holder
    training_id = f"trn-{st.partner_ref}-1"
    end = day + st.rng.randint(60, 150)
    st.emit(day, TrainingStarted, holder, TrainingStartedData(
        training_id=training_id, qualifying=True, structure_id=holder, expected_end=st.day(end)))
    st.told.hold(day, holder)
    exit_dispositif(st, day, ExitClass.SORTIE_POSITIVE, NextStep(kind=NextStepKind.TRAINING, target_id=training_id))
    # The job starts the day the training ends: first the job, then the end of the training.
    job_id, job_end = start_job(st, end, lasting=True, n=1, leave=False)
    st.emit(end, TrainingEnded, holder, TrainingEndedData(training_id=training_id, qualifying=True, completed=True))
    contract_ends(st, job_id, job_end)


def job_short_held(st: Story) -> None:
    job_end = short_job(st)
    taken_up_again(st, job_end + st.rng.randint(0, 3))


def job_short_lost(st: Story) -> None:
    job_end = short_job(st)
    lost_then_maybe_found(st, job_end, job_end + st.territory.followup.lost_after_days, st.holder,
                          nobody_picks_up(st, "job_ended_unheld", job_end, st.holder))


def stays(st: Story) -> None:
    st.contacts(st.last_contact, st.horizon, st.holder)


def exit_none(st: Story) -> None:
    if not st.in_dispositif:  # no dispositif to leave: the person goes silent instead
        silent(st)
        return
    to_act = st.holder
    exit_dispositif(st, st.plot_day, ExitClass.AUTRE, None)
    if not st.referent_accompanies:
        st.told.let_go(st.plot_day, "exit_without_next_step")
    lost_then_maybe_found(st, st.plot_day, st.plot_day + st.territory.followup.lost_after_days, to_act,
                          nobody_picks_up(st, "exit_without_next_step", st.plot_day, to_act))


def silent(st: Story) -> None:
    st.script.plot = "silent"
    st.emit(st.plot_day, ContactRecorded, st.holder, ContactRecordedData(
        structure_id=st.holder, channel=ContactChannel.PHONE, reached=True))
    th = st.territory.followup
    # followup gives a no-contact gap (no_contact_days - at_risk_after_days) days of grace before counting
    stale_after = th.no_contact_days - th.at_risk_after_days + th.lost_after_days
    # Out of reach from the day after this last contact. Someone working for an SIAE (or in a training) is held
    # by it whatever the silence; in an accompaniment dispositif (the Cité de l'emploi, the PLIE, Par'Emploi,
    # CARBUR'PERA) the operator stops reaching them, and the story loses them as any silence: the operator must act.
    lost_then_maybe_found(st, st.plot_day + 1, st.plot_day + stale_after, st.holder,
                          silence(st, st.holder) if st.silence_counts else None)


def referral_unanswered(st: Story) -> None:
    if st.main is None:
        return
    due = st.main.issued + st.territory.referral_sla.accept_days
    # Who must act when nobody ever took the person on: the structure the territory's rules oriented them to
    # (an orientation referral), else, for a prescription nobody answered, the référent that registered the
    # person and sent it (tests/stories/41): it has their file, the territory's coordinator has none.
    kind = next(r.kind for r in st.told.referrals if r.referral_id == st.main.referral_id)
    to_act = (st.operator or st.referent) if kind == "orientation" else st.referent
    loss = silence(st, st.referent) if st.referent_accompanies else Loss("referral_expired", due, to_act)
    lost_then_maybe_found(st, due, due + st.territory.followup.lost_after_days, st.operator or st.referent, loss)


def moved_away(st: Story) -> None:
    case_closed(st, CloseReason.MOVED_AWAY)


def refused_support(st: Story) -> None:
    case_closed(st, CloseReason.REFUSED_SUPPORT)


PLOT_SCRIPTS: dict[str, Callable[[Story], None]] = {
    "job_lasting": job_lasting,
    "training": training,
    "job_short_held": job_short_held,
    "job_short_lost": job_short_lost,
    "stays": stays,
    "exit_none": exit_none,
    "silent": silent,
    "referral_unanswered": referral_unanswered,
    "moved_away": moved_away,
    "refused_support": refused_support,
}


# --------------------------------------------------------------------------- what the plots are made of


def start_job(st: Story, day: int, *, lasting: bool, n: int, leave: bool = True) -> tuple[str, int | None]:
    """The job starts (and, unless `leave` is False, the person leaves the dispositif for it): its id and the
    day its contract ends (None: open-ended)."""
    rng, holder = st.rng, st.holder
    job_id = f"job-{st.partner_ref}-{n}"
    if lasting:
        contract = weighted(rng, LASTING_CONTRACTS)
        length = None if contract in (ContractType.CDI, ContractType.CREATION) else rng.randint(190, 400)
    else:
        contract = weighted(rng, SHORT_CONTRACTS)
        length = rng.randint(20, 150)
    # The job first, then the exit it explains: the person is never without a holder in between.
    st.emit(day, JobStarted, holder, JobStartedData(
        job_id=job_id, employer=rng.choice(EMPLOYERS), contract_type=contract,
        hours_per_week=float(rng.choice((35, 35, 35, 24, 28, 30, 20))),
        expected_end=st.day(day + length) if length else None, structure_id=holder))
    st.anchors.append(Anchor("job", day, holder, max(st.territory.followup.checkin_months, default=0)))
    st.told.hold(day, holder)  # the job holds the person (the structure that placed them follows it)
    if leave:
        exit_class = ExitClass.EMPLOI_DURABLE if lasting else ExitClass.EMPLOI_TRANSITION
        exit_dispositif(st, day, exit_class, NextStep(kind=NextStepKind.JOB, target_id=job_id))
    return job_id, (day + length if length else None)


def short_job(st: Story) -> int:
    """A short contract from the plot day; the day it ends."""
    job_id, job_end = start_job(st, st.plot_day, lasting=False, n=1)
    assert job_end is not None
    st.emit(job_end, JobEnded, st.holder, JobEndedData(job_id=job_id, reason=st.rng.choice(SHORT_JOB_ENDS)))
    if not st.referent_accompanies:
        st.told.let_go(job_end, "job_ended_unheld")
    return job_end


def contract_ends(st: Story, job_id: str, job_end: int | None) -> None:
    """A long fixed-term contract ends; the structure takes the person up again."""
    if job_end is None:
        return
    st.emit(job_end, JobEnded, st.holder, JobEndedData(job_id=job_id, reason=JobEndReason.END_OF_CONTRACT))
    if not st.referent_accompanies:
        st.told.let_go(job_end, "job_ended_unheld")
    taken_up_again(st, job_end + st.rng.randint(0, 3))


def exit_dispositif(st: Story, day: int, exit_class: ExitClass, next_step: NextStep | None) -> None:
    if st.in_dispositif and st.dispositif and st.operator:
        st.emit(day, DispositifExited, st.operator, DispositifExitedData(
            dispositif_id=st.dispositif.id, structure_id=st.operator, exit_class=exit_class, next_step=next_step))
        st.anchors.append(Anchor("exit", day, st.operator, st.dispositif.follow_months_after_exit))


def case_closed(st: Story, reason: CloseReason) -> None:
    exit_dispositif(st, st.plot_day, ExitClass.AUTRE, None)
    st.emit(st.plot_day, CaseClosed, st.holder, CaseClosedData(reason=reason))
    st.closed_on = st.plot_day
    st.told.closed = (str(reason), st.plot_day)


def taken_up_again(st: Story, day: int) -> None:
    st.emit(day, ContactRecorded, st.holder, ContactRecordedData(
        structure_id=st.holder, channel=ContactChannel.IN_PERSON, reached=True))
    st.told.hold(day, st.holder)
    st.contacts(day, st.horizon, st.holder)


def nobody_picks_up(st: Story, reason: str, day: int, to_act: str) -> Loss:
    """Nobody picks the person up after `day`: lost for `reason` since that day; but when the référent
    accompanies them, its accompaniment still stands, and they are lost only once it has been silent long
    enough."""
    return silence(st, to_act) if st.referent_accompanies else Loss(reason, day, to_act)


def silence(st: Story, to_act: str) -> Loss:
    """Nobody hears from the person any more: lost from the last day anyone saw them, once the territory's
    no_contact_days have passed (at risk then, lost lost_after_days - at_risk_after_days later)."""
    th = st.territory.followup
    return Loss("no_contact", None, to_act, grace=th.no_contact_days - th.at_risk_after_days)


def lost_then_maybe_found(st: Story, out_of_reach: int, detected: int, who: str, loss: Loss | None) -> None:
    """The person is out of reach from `out_of_reach`; the story's `loss` (None: they are not lost, someone
    still holds them). Some people are found again by `who`, 5 to 40 days after `detected`, and kept."""
    if loss is not None:
        st.told.losses.append(loss)
    found = detected + st.rng.randint(5, 40)
    if st.rng.random() < st.preset.reengage_share:
        st.unreachable.append((out_of_reach, found))
        st.emit(found, ContactRecorded, who, ContactRecordedData(
            structure_id=who, channel=ContactChannel.PHONE, reached=True))
        if loss is not None:
            loss.found, loss.found_by = found, who
        st.told.hold(found, who)
        st.contacts(found, st.horizon, who)
    else:
        st.unreachable.append((out_of_reach, st.horizon + 400))


# --------------------------------------------------------------------------- after the plot


def answer_checkins(st: Story) -> None:
    """Suivi post-sortie: the structure of each anchor answers the check-ins followup asks for, reaching the
    person unless they are out of reach at that time; none once the case is closed."""
    for kind, day, who, followed in st.anchors:
        for months in st.territory.followup.checkin_months:
            if months > followed:
                continue
            due_date = add_months(st.day(day), months)
            due = (due_date - st.start).days
            if st.closed_on is not None and due >= st.closed_on:
                continue
            reached = not any(a <= due < b for a, b in st.unreachable)
            if not reached:
                st.told.unreached_checkins.append(due)
            st.emit(due + st.rng.randint(1, 10), CheckinDone, who, CheckinDoneData(
                checkin_id=checkin_ref(kind, months, due_date), structure_id=who, reached=reached,
                situation=CheckinOutcome.IN_EMPLOYMENT if reached and kind == "job" else
                CheckinOutcome.SEARCHING if reached else None))
