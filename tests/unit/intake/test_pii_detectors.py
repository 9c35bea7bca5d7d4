"""Intake's personal data detectors and the checks built on them, property-tested."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import parse_event
from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from services.intake.domain import api_keys, checks, pii
from services.intake.domain.admission import KnownStructures

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
SEP = st.sampled_from(["", " ", ".", "-"])


@st.composite
def nirs(draw) -> tuple[str, str]:
    """(spaced NIR, compact NIR) with a right key."""
    parts = [draw(st.sampled_from("12")), f"{draw(st.integers(0, 99)):02d}", f"{draw(st.integers(1, 12)):02d}",
             draw(st.sampled_from(["49", "75", "2A", "2B", "13"])), f"{draw(st.integers(1, 999)):03d}",
             f"{draw(st.integers(1, 999)):03d}"]
    body = int("".join(parts).replace("2A", "19").replace("2B", "18"))
    parts.append(f"{97 - body % 97:02d}")
    sep = draw(SEP)
    return sep.join(parts), "".join(parts)


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(["FR", "DE", "BE", "ES"]))
    bban = "".join(draw(st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"), min_size=14, max_size=23)))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(digits) % 97:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if draw(st.booleans()) else iban


@st.composite
def phones(draw) -> str:
    pairs = [f"{draw(st.integers(0, 99)):02d}" for _ in range(4)]
    first = str(draw(st.integers(1, 9)))
    sep = draw(SEP)
    prefix = draw(st.sampled_from(["0", "+33 ", "+33", "0033 "]))
    return prefix + first + sep + sep.join(pairs)


emails = st.emails().map(str)
padding = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,;()'", max_size=20)


@given(nirs(), padding, padding)
@settings(max_examples=50, deadline=None)
def test_a_nir_is_found_spaced_or_not_even_with_a_mistyped_key(nir, before, after):
    spaced, compact = nir
    assert pii.has_nir(f"{before} {spaced} {after}") and pii.has_nir(compact) and pii.nir_key_is_right(compact)
    wrong = compact[:13] + f"{(int(compact[13:]) % 97) + 1:02d}"
    assert pii.has_nir(wrong) and not pii.nir_key_is_right(wrong)
    assert not pii.has_nir(compact + "1") and not pii.has_nir(compact[:-1])


@given(emails, phones(), ibans(), padding)
@settings(max_examples=50, deadline=None)
def test_emails_french_phones_and_ibans_are_found_in_free_text(email, phone, iban, text):
    assert "email" in pii.kinds_in(f"{text} {email} {text}")
    assert "phone" in pii.kinds_in(f"{text} tel {phone}.")
    assert "iban" in pii.kinds_in(f"IBAN {iban} {text}")


@given(st.from_regex(r"[a-z][a-z_]{2,30}", fullmatch=True), st.uuids())
@settings(deadline=None)
def test_ordinary_identifiers_hold_no_personal_data(word, uid):
    assert pii.kinds_in(word) == [] and pii.kinds_in(str(uid)) == [] and pii.kinds_in(f"ML49-2025-{uid.int % 10**5}") == []
    assert pii.is_strict_identifier(str(uid)) and not pii.is_strict_identifier(f"{word} {word}")


@given(st.sampled_from(["Benali", "Zéphirine-Quillard", "N'Diaye"]), padding)
@settings(deadline=None)
def test_a_persons_own_names_are_found_whatever_the_case_and_accents(last, text):
    names = pii.name_tokens(last, "Yanis Oriane")
    assert pii.has_name(f"{text} {last.upper()} {text}", names)
    assert pii.has_name("rdv avec yanis", names) and not pii.has_name("garage du centre", names)


identity_keys = st.sampled_from(["identity", "identiy", "Identite", "ident", "last_name", "LastName", "nom",
                                 "e_mail", "telephone", "birth_date"])


@given(nirs(), emails, identity_keys, st.integers(0, 3), st.booleans())
@settings(max_examples=60, deadline=None)
def test_redaction_leaves_no_identity_at_any_depth_nor_in_base64(nir, email, key, depth, encode):
    spaced, compact = nir
    block = {"nir": spaced, "last_name": "Kerhervé", "first_names": "Gwenolé", "email": email}
    value: object = {key: block}
    for level in range(depth):
        value = {f"level{level}": value, "note": f"dossier de Gwenolé {compact}"}
    original = {"id": "evt-1", "data": value, "free": base64.b64encode(json.dumps(block).encode()).decode()
                if encode else email, f"note {compact}": "x"}
    text = json.dumps(pii.redact(original, pii.names_anywhere(original)), ensure_ascii=False)
    for planted in (spaced, compact, email, "Kerhervé", "Gwenolé"):
        assert planted not in text
    assert '"evt-1"' in text


def test_signed_timestamps_are_finite_unix_seconds_within_the_window():
    now = NOW.timestamp()
    assert api_keys.is_fresh(str(int(now)), NOW, 300) and api_keys.is_fresh(f"{now:.3f}", NOW, 300)
    for bad in ("nan", "NaN", "inf", "-inf", "infinity", f" {int(now)} ", f"+{int(now)}", f"{int(now)}e0",
                f"{int(now):_}", str(int(now) - 301), "", "1e309"):
        assert not api_keys.is_fresh(bad, NOW, 300), bad


def _event(**over) -> dict:
    event = {"specversion": "1.0", "id": "evt-1", "source": "mission_locale_angevine",
             "type": "fr.ariane.job.started", "subject": "REF-1", "time": "2026-03-02T09:00:00+01:00",
             "data": {"job_id": "job-1", "employer": "Garage du centre", "contract_type": "cdi",
                      "hours_per_week": 35, "structure_id": "mission_locale_angevine"}}
    for key, value in over.items():
        if key.startswith("data_"):
            event["data"][key[5:]] = value
        else:
            event[key] = value
    return event


def _problems(raw: dict) -> list[str]:
    event = parse_event(raw)
    return [p.loc for p in checks.date_problems(event, raw, checks.Window(NOW))
            + checks.personal_data_problems(event, raw)]


def test_dates_must_be_rfc3339_strings_within_the_window_of_the_clock():
    assert _problems(_event()) == []
    assert _problems(_event(time=1772438400)) == ["time"]
    assert _problems(_event(time="9999-12-31T00:00:00+00:00")) == ["time"]
    assert _problems(_event(time="1899-12-31T23:00:00+00:00")) == ["time"]
    assert _problems(_event(data_expected_end="9999-12-31")) == ["data.expected_end"]


def test_personal_data_is_named_by_field_never_quoted():
    raw = _event(data_employer="chez oriane.quillard@example.org", correlationid="a b", data_job_id="06-71-82-93-04")
    event = parse_event(raw)
    problems = checks.personal_data_problems(event, raw)
    assert sorted(p.loc for p in problems) == ["correlationid", "data.employer", "data.job_id"]
    assert not any("oriane" in p.msg or "06" in p.msg for p in problems)


def test_a_structure_acts_for_itself_its_delegations_and_the_dispositifs_it_operates():
    territory = load_territory(DEFAULT_TERRITORY_FILE)
    known = KnownStructures.of(territory)
    made_by_plie = parse_event(_event(data_structure_id="plie_angers"))
    assert known.impersonations(made_by_plie) == ["data.structure_id names a structure that is not the sender "
                                                  "nor one it acts for"]
    delegating = territory.model_copy(update={"structures": tuple(
        s.model_copy(update={"acts_for": ("plie_angers",)}) if s.id == "mission_locale_angevine" else s
        for s in territory.structures)})
    assert KnownStructures.of(delegating).impersonations(made_by_plie) == []


@given(st.from_regex(r"0[1-9][0-9]{8}|[12][0-9]{14}", fullmatch=True), st.text("0123456789abcdef", min_size=0, max_size=17))
def test_a_person_id_minted_by_intake_is_never_taken_for_personal_data(digits, tail):
    # Person ids are 32 hex digits of an HMAC: now and then they start with ten digits shaped like a phone
    # number or fifteen like a NIR. Such an id in `subject` or a `*_person_id` field must still pass.
    person_id = ("p_" + digits + tail + "0" * 32)[:34]
    event = parse_event({"specversion": "1.0", "id": "evt-1", "source": "mission_locale_angevine",
                         "type": "fr.ariane.contact.recorded", "subject": person_id,
                         "time": "2026-03-02T09:00:00+01:00",
                         "data": {"structure_id": "mission_locale_angevine", "channel": "phone", "reached": True}})
    raw = json.loads(event.to_json_bytes())
    assert checks.personal_data_problems(event, raw) == []


@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True), st.text("abcdef", min_size=1, max_size=1),
       st.text("0123456789abcdef", min_size=5, max_size=5),
       st.sampled_from(["chk-{h}-exit-1m", "chk-{h}-job-12m", "ori-{h}{t}", "rev-{h}{t}{t}{t}"]))
def test_an_id_ariane_minted_and_a_partner_echoes_is_never_taken_for_a_phone(digits, letter, tail, shape):
    # Check-in, referral and review ids hold hex digests that now and then begin with ten digits shaped like a
    # phone number, followed by a hex letter. A partner answering a check-in by the id it was given must pass
    # (a simulated year lost three answers of one person to this).
    digest = (digits + letter + tail)[:16]
    checkin_id = shape.format(h=digest, t=tail)
    event = parse_event({"specversion": "1.0", "id": "evt-1", "source": "aldev_cite_emploi",
                         "type": "fr.ariane.followup.checkin_done", "subject": "CD49-2026-000661",
                         "time": "2026-07-06T09:00:00+02:00",
                         "data": {"checkin_id": checkin_id, "structure_id": "aldev_cite_emploi", "reached": True}})
    assert checks.personal_data_problems(event, json.loads(event.to_json_bytes())) == []
    # A number written by a person is still one, whatever follows it once a space or a sign ends it.
    assert pii.has_phone(f"rappeler au {digits}, merci") and pii.has_phone(f"tel:{digits}")
