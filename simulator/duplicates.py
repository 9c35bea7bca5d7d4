"""Near-duplicate identities: a person registered a second time by another structure, with a spelling variant
of their last name and no NIR (Lefebvre / Lefevre), or another person with a close name born the same day
(Martin / Martins). Intake cannot tell: it opens an identity review, and the territory's coordinator decides it
(partner stories 47 and 48).

The second registration comes from a structure that is not the person's organisme référent, so the referral
service orients that file to the référent; the référent recognises its own person (or takes on the newcomer)
and accepts within three days, and the coordinator decides one to four days later. The story records, when it
writes them, what the coordinator decides and what follows:

* the same person (`same_person`): the référent's acceptance makes it accompany the person from that day (as a
  référent whose referral was refused does, Story.referent_accompanies), and the two files are one person from
  the decision on: one person in the figures, held as the story says;
* different people (`different_people`): the newcomer is another simulated person (`PersonScript.other`, key
  `<key>t`), accompanied by the référent, who keeps in touch all year.

Only people no registration-time rule orients elsewhere (not QPV residents) get a second file: the référent's
orientation is then the only referral it causes. Drawn from generators of the person's own, so a preset
without near-duplicates keeps every other draw as it was.
"""

from __future__ import annotations

import random
from dataclasses import replace
from zoneinfo import ZoneInfo

from contracts.people import Identity, PersonRegistered, PersonRegisteredData
from contracts.referrals import ReferralAccepted, ReferralAcceptedData
from contracts.vocabulary import FtCategory, StructureKind

from simulator.people import rng_for
from simulator.script import PersonScript, PredictedReferral, ScriptWriter
from simulator.story import Story
from simulator.told import ToldReferral, ToldReview

# Structures that register adults they meet, besides the référent: who registers the second file.
SECOND_REGISTRARS = ("plie_angers", "mission_emploi_trelaze", "france_travail_angers_est",
                     "france_travail_angers_ouest")
KIND_CODES = {StructureKind.FRANCE_TRAVAIL: "FT", StructureKind.PLIE: "PLIE", StructureKind.ASSOCIATION: "ASSO"}


def spelling_variant(last_name: str, rng: random.Random) -> str:
    """The same name typed otherwise: one interior letter left out (Lefebvre -> Lefevre, Dubois -> Dubos)."""
    at = rng.randint(1, len(last_name) - 2)
    return last_name[:at] + last_name[at + 1:]


def close_name(last_name: str) -> str:
    """Another family's name, one letter away (Martin -> Martins, Thomas -> Thomaz)."""
    return last_name + "s" if not last_name.endswith("s") else last_name[:-1] + "z"


def register_again(seed: int, st: Story, first_registration: str) -> None:
    """A share of people get a second file (the same person, or another one with a close name): its
    registration, the référent's acceptance of the orientation it causes, and the coordinator's decision."""
    preset, person = st.preset, st.person
    if preset.near_duplicate_share <= 0:
        return
    rng = rng_for(seed, preset.name, person.index, "duplicate")
    if rng.random() >= preset.near_duplicate_share:
        return
    different = rng.random() < preset.near_duplicate_other_share
    by = rng.choice([s for s in SECOND_REGISTRARS if s != st.referent])
    registered = st.registered + rng.randint(10, 30)
    accepted = registered + rng.randint(1, 3)
    decided = accepted + rng.randint(1, 4)
    if person.qpv_resident or decided >= st.horizon or not person.identity.last_name:
        return
    last_name = close_name(person.identity.last_name) if different else spelling_variant(person.identity.last_name,
                                                                                          rng)
    identity = Identity(last_name=last_name, first_names=person.identity.first_names,
                        birth_date=person.identity.birth_date)  # no NIR, no e-mail nor phone to prove anything
    code = KIND_CODES.get(st.territory.structure(by).kind, "X")
    partner_ref = f"{code}-{st.start.year}-{person.index + 1:06d}-{'T' if different else 'D'}"
    if different:
        other = _other_person(seed, st, by, identity, partner_ref, registered, accepted)
        st.script.other = other
        second = other.events[0][1].id
    else:
        second = _register(st, by, identity, partner_ref, registered, subject=partner_ref)
        answer = _accept(st, by, registered, accepted, subject=partner_ref)
        st.told.referrals.append(answer)
        # The référent took the second file on: it accompanies the person from that day, beside whoever else does.
        st.referent_accompanies = True
        st.told.referent_accompanies(st.referent, accepted)
        st.told.also_held(accepted, st.referent)
    st.told.reviews.append(ToldReview(partner_ref, by, registered, decided,
                                      "different_people" if different else "same_person",
                                      first_registration, second,
                                      other=f"{person.key}t" if different else None))


def _register(st: Story, by: str, identity: Identity, partner_ref: str, day: int, subject: str | None) -> str:
    person = st.person
    return st.emit(day, PersonRegistered, by, PersonRegisteredData(
        structure_id=by, registered_on=st.day(day), birth_year=person.birth_year,
        commune_insee=person.commune_insee, qpv_resident=person.qpv_resident, rqth=person.rqth, rsa=person.rsa,
        single_parent=person.single_parent, education_level=person.education_level,
        ft_category=FtCategory.A if st.territory.structure(by).kind == StructureKind.FRANCE_TRAVAIL else None,
        partner_ref=partner_ref, identity=identity), subject=subject)


def _accept(st: Story, by: str, issued: int, accepted: int, subject: str | None) -> ToldReferral:
    """The référent accepts the orientation the second file caused (the referral service issues it on the
    registration, from `by` to the référent); the sender finds its id as for any orientation."""
    from simulator.scenario import orientation_answer_ref  # scenario calls this module: imported when used

    ref_id = orientation_answer_ref(st.referent)
    told = ToldReferral(ref_id, "orientation", st.referent, issued, issued + st.territory.referral_sla.accept_days,
                        "on_time", answered=accepted)
    told.answer_event = st.emit(accepted, ReferralAccepted, st.referent,
                                ReferralAcceptedData(referral_id=ref_id, structure_id=st.referent), subject=subject)
    return told


def _other_person(seed: int, st: Story, by: str, identity: Identity, partner_ref: str, registered: int,
                  accepted: int) -> PersonScript:
    """Another person, born the same day with a close name: registered by `by`, oriented to the same référent
    (same profile), who accepts and keeps in touch with them every 20 to 40 days for the rest of the year."""
    person = replace(st.person, key=f"{st.person.key}t", identity=identity)
    script = PersonScript(person=person, partner_ref=partner_ref, referent=st.referent, route=None, plot="stays")
    out = ScriptWriter(seed, st.preset, script, st.start, st.horizon, ZoneInfo(st.territory.timezone))
    other = Story(rng=rng_for(seed, st.preset.name, st.person.index, "other person"), out=out, script=script,
                  preset=st.preset, territory=st.territory, start=st.start, horizon=st.horizon)
    other.registered = registered
    _register(other, by, identity, partner_ref, registered, subject=None)
    other.told.let_go(registered, None)  # registered: nobody has taken them on yet
    told = _accept(other, by, registered, accepted, subject=None)
    other.told.referrals.append(told)
    script.orientations.append(PredictedReferral(
        referral_id=told.referral_id, rule="", from_structure=by, to_structure=st.referent, dispositif_id=None,
        issued_day=registered, due_day=told.due, answer="on_time"))
    other.told.hold(accepted, st.referent)
    other.told.referent_accompanies(st.referent, accepted)
    other.referent_accompanies = True
    other.contacts(accepted, st.horizon, st.referent)
    out.finish()
    return script
