"""A person's year as a deterministic script of partner events.

The script registers the person with their organisme référent, identifies barriers, answers the referrals
that concern them (the orientation referrals the referral service will issue, and prescriptions the referent
issues itself), enters a dispositif, then plays one plot (presets.PLOTS, scripted in plots.py): a job, a
training, staying accompanied, leaving with no next step, going silent, moving away... Structures contact the
people they hold every 20 to 40 days. Everything is drawn from the person's own generator: the same seed gives
the same script.
"""

from __future__ import annotations

import hashlib
from datetime import date
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierIdentifiedData, BarrierLifted, BarrierLiftedData
from contracts.pathway import DispositifEntered, DispositifEnteredData
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import (ReferralAccepted, ReferralAcceptedData, ReferralAcknowledged,
                                 ReferralAcknowledgedData, ReferralFirstAppointmentHeld,
                                 ReferralFirstAppointmentHeldData, ReferralIssued, ReferralIssuedData,
                                 ReferralRefused, ReferralRefusedData)
from contracts.territory import OrientationRule, Territory
from contracts.vocabulary import (BarrierKind, ChildcareSolution, FtCategory, ImpactLevel, RefusalReason, ReferralKind,
                                 StructureKind)

from simulator.duplicates import register_again
from simulator.lateness import late_arrivals
from simulator.people import make_person, referent_rule, rng_for, weighted
from simulator.plots import answer_checkins, play_plot
from simulator.presets import RETURN_PLOTS, Preset
from simulator.quotas import Quota
from simulator.script import PersonScript, PredictedReferral, ScriptWriter
from simulator.story import MainReferral, Story
from simulator.told import ToldReferral

KIND_CODES = {StructureKind.FRANCE_TRAVAIL: "FT", StructureKind.MISSION_LOCALE: "ML", StructureKind.CAP_EMPLOI: "CAP",
              StructureKind.DEPARTEMENT: "CD49", StructureKind.PLIE: "PLIE", StructureKind.CITE_EMPLOI: "CITE"}
# Dispositifs a referent may prescribe when no orientation rule routes the person, by who they suit.
PRESCRIBABLE = ("plie_parcours", "iae_regie", "iae_aci")
IMPACTS = {ImpactLevel.LOW: 1, ImpactLevel.MEDIUM: 2, ImpactLevel.HIGH: 2}

# What may cause an orientation referral: (day, event id, the barrier identified; None for the registration).
Cause = tuple[int, str, BarrierKind | None]
# An orientation referral the referral service will issue: (day, the answers' placeholder id, its rule).
Orientation = tuple[int, str, OrientationRule]


def orientation_answer_ref(to_structure: str) -> str:
    """The placeholder partners put in answers to the orientation referral sent to `to_structure`.

    The referral service names its referrals from the person_id (which partners learn from intake); the sender
    replaces this placeholder by the id of the open orientation referral to that structure for that person."""
    return f"sim-ask-referral-{to_structure}"


def build_script(seed: int, preset: Preset, index: int, territory: Territory, start: date,
                 horizon: int, quota: Quota | None = None) -> PersonScript:
    st = begin(seed, preset, index, territory, start, horizon, quota)
    registration = register(st)
    causes = identify_barriers(st, registration)
    orientations = predict_orientations(st, causes)
    choose_route(st)
    st.main = answer_orientations(st, orientations) or prescribe(st)
    contacts_from = answer_main_referral(st)
    schedule_plot(st)
    register_again(seed, st, registration)
    lift_barriers(st)
    keep_in_touch(st, contacts_from)
    play_plot(st)
    answer_checkins(st)
    settle_silences(st)
    st.out.finish()
    st.script.arrival = late_arrivals(seed, preset, index, st.script, horizon)
    return st.script


def settle_silences(st: Story) -> None:
    """A silence is counted from the last day anyone saw the person before they were found again (or ever)."""
    for loss in st.told.losses:
        if loss.since is None:
            before = loss.found if loss.found is not None else st.horizon
            loss.since = st.told.last_seen(before) or st.registered


def begin(seed: int, preset: Preset, index: int, territory: Territory, start: date, horizon: int,
          quota: Quota | None) -> Story:
    """Who the person is, who their référent is, and the plot drawn for them (among the plots that return to a
    job or a training, or among the others, when the cohort's quota decided which)."""
    person = make_person(seed, preset, index, start, single_parent=quota.single_parent if quota else None)
    rng = rng_for(seed, preset.name, index, "script")
    year = start.year
    referent = referent_rule(person, territory, year).to
    partner_ref = f"{KIND_CODES.get(territory.structure(referent).kind, 'X')}-{year}-{index + 1:06d}"
    plots = preset.plots if quota is None else \
        {plot: weight for plot, weight in preset.plots.items() if (plot in RETURN_PLOTS) == quota.returns}
    script = PersonScript(person=person, partner_ref=partner_ref, referent=referent, route=None,
                          plot=str(weighted(rng, plots)))
    out = ScriptWriter(seed, preset, script, start, horizon, ZoneInfo(territory.timezone))
    return Story(rng=rng, out=out, script=script, preset=preset, territory=territory, start=start, horizon=horizon,
                 quota=quota)


def register(st: Story) -> str:
    """Registration with the référent, on a day of the preset's window; the registration's event id."""
    person, referent = st.person, st.referent
    r = st.registered = st.rng.randint(0, st.preset.registration_window_days)
    on_ft_list = st.territory.structure(referent).kind == StructureKind.FRANCE_TRAVAIL
    event = st.emit(r, PersonRegistered, referent, PersonRegisteredData(
        structure_id=referent, registered_on=st.day(r), birth_year=person.birth_year,
        commune_insee=person.commune_insee, qpv_resident=person.qpv_resident, rqth=person.rqth, rsa=person.rsa,
        single_parent=person.single_parent, education_level=person.education_level,
        ft_category=FtCategory.A if on_ft_list else None, partner_ref=st.partner_ref, identity=person.identity))
    st.told.let_go(r, None)  # registered: nobody has taken them on yet
    return event


def identify_barriers(st: Story, registration: str) -> list[Cause]:
    """The barriers the référent identifies in the first week; with the registration, what may cause an
    orientation referral."""
    causes: list[Cause] = [(st.registered, registration, None)]
    for n, kind in enumerate(st.person.barriers):
        day = st.registered + st.rng.randint(1, 6)
        st.barrier_ids[kind] = f"brr-{st.partner_ref}-{n + 1}"
        event_id = st.emit(day, BarrierIdentified, st.referent, BarrierIdentifiedData(
            barrier_id=st.barrier_ids[kind], kind=kind, impact=weighted(st.rng, IMPACTS), structure_id=st.referent))
        causes.append((day, event_id, kind))
    return causes


def predict_orientations(st: Story, causes: list[Cause]) -> list[Orientation]:
    """The orientation referrals the referral service will issue besides the référent (non-primary rules),
    each on the day of the registration or barrier that triggers it."""
    orientations: list[Orientation] = []
    for rule in st.territory.orientation:
        if rule.primary or rule.to == st.referent or not st.person.matches(rule.when, st.start.year):
            continue
        for day, _cause, kind in causes:
            if rule.when_barrier == kind:
                orientations.append((day, orientation_answer_ref(rule.to), rule))
                break
    return orientations


def choose_route(st: Story) -> None:
    """The dispositif the person is meant to enter: the preset's, else by profile, else sometimes one the
    référent prescribes."""
    person, rng = st.person, st.rng
    route = st.preset.forced_route
    if route is None:
        if person.qpv_resident:
            route = "cite_emploi_angers"
        elif person.single_parent and BarrierKind.GARDE_ENFANT in person.barriers:
            route = "par_emploi_garde"
        elif BarrierKind.MOBILITE in person.barriers and rng.random() < 0.5:
            route = "carbur_pera_mobilite"
        elif rng.random() < st.preset.prescription_share:
            route = rng.choice(PRESCRIBABLE)
    st.script.route = route
    st.dispositif = st.territory.dispositifs_by_id[route] if route else None


def answer_orientations(st: Story, orientations: list[Orientation]) -> MainReferral | None:
    """The first orientation to the route's operator is the main referral, answered as the preset draws; the
    targets of the others refuse them."""
    sla, rng = st.territory.referral_sla, st.rng
    main: MainReferral | None = None
    for day, ref_id, rule in orientations:
        is_main = st.operator == rule.to and main is None
        answer = str(weighted(rng, st.preset.answers)) if is_main else "refused"
        st.script.orientations.append(PredictedReferral(
            referral_id=ref_id, rule=rule.id, from_structure=st.referent, to_structure=rule.to,
            dispositif_id=None, issued_day=day, due_day=day + sla.accept_days, answer=answer))
        told = ToldReferral(ref_id, "orientation", rule.to, day, day + sla.accept_days, answer)
        st.told.referrals.append(told)
        if is_main:
            main = MainReferral(day, ref_id, answer)
        else:
            told.answered = day + rng.randint(2, sla.accept_days - 2)
            told.answer_event = st.emit(told.answered, ReferralRefused, rule.to, ReferralRefusedData(
                referral_id=ref_id, structure_id=rule.to,
                reason_code=rng.choice((RefusalReason.NO_CAPACITY, RefusalReason.DUPLICATE))))
            refusal_returns_to_issuer(st, told.answered)
    return main


def prescribe(st: Story) -> MainReferral | None:
    """With no orientation to the operator, the référent prescribes the dispositif itself (unless it runs it)."""
    dispositif, operator = st.dispositif, st.operator
    if not (dispositif and operator and operator != st.referent):
        return None
    day = st.registered + st.rng.randint(7, 20)
    ref_id = f"rx-{st.partner_ref}-1"
    st.emit(day, ReferralIssued, st.referent, ReferralIssuedData(
        referral_id=ref_id, kind=ReferralKind.PRESCRIPTION, from_structure=st.referent, to_structure=operator,
        dispositif_id=dispositif.id, reason=f"Prescription {dispositif.name}",
        due_date=st.day(day + st.territory.referral_sla.accept_days)))
    answer = str(weighted(st.rng, st.preset.answers))
    st.told.referrals.append(ToldReferral(ref_id, "prescription", operator, day,
                                          day + st.territory.referral_sla.accept_days, answer))
    return MainReferral(day, ref_id, answer)


def refusal_returns_to_issuer(st: Story, day: int) -> None:
    """A structure refuses a referral: the person stays with the structure that sent them (the référent),
    which the contract says still holds them."""
    st.referent_accompanies = True
    st.told.referent_accompanies(st.referent, day)
    st.told.also_held(day, st.referent)


def answer_main_referral(st: Story) -> int | None:
    """The operator's answer to the main referral; on acceptance, entry into the dispositif at the first
    appointment. Returns the day the référent starts contacting the person (None: it does not)."""
    registered = st.registered
    main, dispositif, operator = st.main, st.dispositif, st.operator
    if not (main and dispositif and operator):
        return registered
    sla, rng = st.territory.referral_sla, st.rng
    issued, ref_id, answer = main
    due = issued + sla.accept_days
    told = next(r for r in st.told.referrals if r.referral_id == ref_id)
    if answer != "never":
        st.emit(issued + rng.randint(1, sla.acknowledge_days - 1), ReferralAcknowledged, operator,
                ReferralAcknowledgedData(referral_id=ref_id, structure_id=operator))
    if answer in ("on_time", "late"):
        # Late means after the day following the due date: the referral service has expired it by then.
        accept = rng.randint(issued + 3, due - 1) if answer == "on_time" \
            else rng.randint(due + 2, issued + sla.accept_ceiling_days - 1)
        entry = st.entry = accept + rng.randint(2, 7)
        told.answered = accept
        told.answer_event = st.emit(accept, ReferralAccepted, operator, ReferralAcceptedData(
            referral_id=ref_id, structure_id=operator, first_appointment_on=st.day(entry)))
        if answer == "late":
            st.told.expires(due + 1, due)
        st.told.also_held(accept, operator)  # the operator takes the person on, then enters them
        st.emit(entry, ReferralFirstAppointmentHeld, operator,
                ReferralFirstAppointmentHeldData(referral_id=ref_id, structure_id=operator))
        st.emit(entry, DispositifEntered, operator,
                DispositifEnteredData(dispositif_id=dispositif.id, structure_id=operator))
        return None  # the référent leaves the follow-up to the dispositif
    if answer == "refused":
        refused = told.answered = issued + rng.randint(3, sla.accept_days - 1)
        told.answer_event = st.emit(refused, ReferralRefused, operator, ReferralRefusedData(
            referral_id=ref_id, structure_id=operator, reason_code=RefusalReason.NO_CAPACITY))
        refusal_returns_to_issuer(st, refused)
        return registered
    st.told.expires(due + 1, due)  # never answered: the referral service expires it the day after its due date
    if rng.random() < 0.5:
        st.script.plot = "referral_unanswered"
        return None  # nobody answers and the référent does not follow the person either
    return registered


def schedule_plot(st: Story) -> None:
    """The plot begins 45 to 180 days after entry (or after the fortnight following registration)."""
    base = st.entry if st.entry is not None else st.registered + 15
    st.plot_day = base + st.rng.randint(45, 180)


def lift_barriers(st: Story) -> None:
    """Barriers lifted while the person is accompanied, before the plot: by the dispositif when it works on
    them, else by the référent for about half of them. Under a cohort quota, the dispositif finds childcare
    exactly for the families the quota names, before their plot begins."""
    rng, dispositif, quota = st.rng, st.dispositif, st.quota
    for kind, barrier_id in st.barrier_ids.items():
        if st.entry is not None and dispositif and kind in dispositif.lifts:
            day, by, dispo = st.entry + rng.randint(20, 70), st.holder, dispositif.id
            if quota is not None and kind == BarrierKind.GARDE_ENFANT:
                if quota.childcare is None:
                    continue  # still searching: the seed's count of solutions is reached without this family
                day = min(day, st.plot_day - 1)
        elif rng.random() < 0.5 and st.script.plot != "referral_unanswered":
            day, by, dispo = st.registered + rng.randint(30, 150), st.referent, None
        else:
            continue
        if day < st.plot_day:
            solution = None if kind != BarrierKind.GARDE_ENFANT or not dispo else \
                quota.childcare if quota is not None else childcare_solution(barrier_id)
            st.emit(day, BarrierLifted, by, BarrierLiftedData(barrier_id=barrier_id, kind=kind, dispositif_id=dispo,
                                                              structure_id=by, childcare_solution=solution))


def childcare_solution(barrier_id: str) -> ChildcareSolution:
    """The childcare a dispositif found, in the proportions of the Par'Emploi seed (15 temporary, 14 permanent,
    2 with an assistante maternelle). Drawn from the barrier's id, not the story's random stream, so adding it
    left every other simulated fact as it was."""
    draw = int(hashlib.sha256(barrier_id.encode()).hexdigest()[:8], 16) % 31
    return (ChildcareSolution.ACCUEIL_TEMPORAIRE if draw < 15 else ChildcareSolution.ACCUEIL_PERMANENT if draw < 29
            else ChildcareSolution.ASSISTANTE_MATERNELLE)


def keep_in_touch(st: Story, contacts_from: int | None) -> None:
    """Until the plot, the holder contacts the person: from entry into the dispositif, else from
    `contacts_from` (None: nobody does)."""
    first = st.entry if st.entry is not None else contacts_from
    if st.entry is None and first is not None:
        st.referent_accompanies = True
    st.last_contact = st.contacts(first, st.plot_day, st.holder, picks_up=st.entry is None) \
        if first is not None else st.plot_day
