"""Who may call what: every role of the credentials book against every API that checks it, on the real services.

Intake, referral, followup and reporting run on the real broker and real stores, sharing one credentials book
as a deployment does. Each cell of the table is one request; its expected status is written in the table, read
by a person as the policy itself. A France Travail registration goes through first, so that the Mission
locale's keys have a referral to see and the Cap emploi key has none of it; an older person France Travail
registers is someone the Mission locale never had to do with ("timeline other", "identity other"). Seeing an
identity is a disclosure: the audit list must then hold each one shown, and none refused.

Erasure (RGPD) follows who may see the identity: a structure's keys erase the people their structure registered
or is asked to act on, the coordinator anyone, an auditor never, and only auditors and the coordinator list the
erasures. An erasure cannot be asked twice of the same person, so every caller gets people of its own to erase:
one the Mission locale registered ("erase own") and one Cap emploi registered ("erase other"). The export of a
person (their access request) shows the identity, so it goes to whoever may see it.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack

import httpx

from services.followup.app import definition as followup_definition
from services.intake.app import definition as intake_definition
from services.intake.settings import IntakeSettings
from services.intake.store.credentials import add_key
from services.referral.app import definition as referral_definition
from services.reporting.app import definition as reporting_definition
from services.runtime.credentials import CredentialsBook
from tests.support.services import running_service, test_settings

ML, CAP, FT = "mission_locale_angevine", "cap_emploi_49", "france_travail_angers_centre"
COORDINATOR, TERRITORY = "coordination_territoriale", "angers-loire-metropole"

# endpoint × the structure asked about: ML is the caller's own structure for the structure keys.
COLUMNS = ("referrals own", "referrals other", "report", "digest", "events own", "events other",
           "worklist own", "worklist other", "caseload own", "timeline own", "timeline other",
           "identity own", "identity other", "disclosures", "erase own", "erase other", "erasures",
           "export own", "export other")
TABLE = {  # ............................................................................. | erasure ...........
    "partner":     (200, 403, 403, 403, 202, 403, 200, 403, 200, 200, 403, 200, 403, 403, 200, 403, 403, 200, 403),
    "counsellor":  (200, 403, 403, 403, 202, 403, 200, 403, 200, 200, 403, 200, 403, 403, 200, 403, 403, 200, 403),
    "coordinator": (200, 200, 200, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "auditor":     (403, 403, 200, 200, 403, 403, 403, 403, 403, 200, 200, 403, 403, 200, 403, 403, 200, 403, 403),
    "no key":      (401,) * 19,
    "revoked":     (401,) * 19,
    "unknown key": (401,) * 19,
    "old token":   (401,) * 19,
}


REASON = {"reason": "rappeler la personne avant son premier rendez-vous"}


def registration(source: str, birth_year: int = 1980) -> dict:
    ref = f"REF-{uuid.uuid4().hex[:8]}"
    return {"specversion": "1.0", "id": f"evt-{uuid.uuid4()}", "source": source, "type": "fr.ariane.person.registered",
            "subject": ref, "time": "2025-02-03T14:05:00+01:00",
            "data": {"structure_id": source, "registered_on": "2025-02-03", "birth_year": birth_year,
                     "commune_insee": "49007", "qpv_resident": False, "rqth": False, "rsa": False,
                     "single_parent": False, "education_level": "4", "partner_ref": ref,
                     "identity": {"last_name": f"Nom{ref[-4:]}", "first_names": "Alex",
                                  "birth_date": f"{birth_year}-03-04"}}}


async def test_every_role_against_every_api(kafka_bootstrap, topic_prefix, database_url_factory, tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    intake_settings = IntakeSettings(territory_secret="territory-secret-for-tests-0123456789",
                                     master_key="master-key-for-tests-0123456789", publish_timeout_s=20.0)
    definitions = {"intake": intake_definition(intake_settings), "referral": referral_definition(),
                   "followup": followup_definition(), "reporting": reporting_definition()}
    async with AsyncExitStack() as stack:
        http: dict[str, httpx.AsyncClient] = {}
        apps = {}
        for name, defn in definitions.items():
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
                                     database_url=await database_url_factory(name), credentials_file=book.path)
            apps[name], http[name] = await stack.enter_async_context(running_service(defn, settings))

        async def partner_key(structure: str) -> str:
            """What `ariane structures add-key` does: intake's store issues it, the book records it."""
            ctx = apps["intake"].state.ctx
            async with ctx.session_factory() as session, session.begin():
                token = (await add_key(session, ctx.deps.vault, structure)).token
            return book.record(token, "partner", structure).token

        keys = {
            "partner": await partner_key(ML),
            "counsellor": book.issue("counsellor", ML, counsellor="c-007").token,
            "coordinator": book.issue("coordinator", COORDINATOR).token,
            "auditor": book.issue("auditor", TERRITORY).token,
            "revoked": await partner_key(ML),
            "unknown key": "ak_0123456789ab.never-issued",
            "old token": "a-token-of-the-old-hand-made-kind",
        }
        book.revoke(book.check(keys["revoked"]).key_id)  # in the book only: intake's store still holds it

        # A young person registered by France Travail: a referral to the Mission locale.
        ft = {"authorization": f"Bearer {await partner_key(FT)}"}
        posted = await http["intake"].post("/v1/events", json=[registration(FT, birth_year=2004),
                                                               registration(FT, birth_year=1970)], headers=ft)
        assert posted.status_code == 202, posted.text
        young, older = (r["person_id"] for r in posted.json()["results"])
        coordinator = {"authorization": f"Bearer {keys['coordinator']}"}
        # People to erase, two for each caller: one the Mission locale registered, one Cap emploi did.
        to_erase: dict[str, dict[str, str]] = {}
        for structure, column in ((ML, "erase own"), (CAP, "erase other")):
            sent = await http["intake"].post("/v1/events", json=[registration(structure) for _ in TABLE], headers={
                "authorization": f"Bearer {keys['partner'] if structure == ML else await partner_key(CAP)}"})
            assert sent.status_code == 202, sent.text
            to_erase[column] = dict(zip(TABLE, (r["person_id"] for r in sent.json()["results"]), strict=True))
        heard_by = asyncio.get_running_loop().time() + 60
        for person in (young, older):
            while (await http["followup"].get(f"/v1/people/{person}/timeline", headers=coordinator)).status_code != 200:
                assert asyncio.get_running_loop().time() < heard_by, "followup never heard of them"
                await asyncio.sleep(0.2)
        deadline = asyncio.get_running_loop().time() + 60
        while not (await http["referral"].get("/v1/referrals", params={"to": ML}, headers=coordinator)).json():
            assert asyncio.get_running_loop().time() < deadline, "no referral to the Mission locale was issued"
            await asyncio.sleep(0.2)

        # Intake learns from the referral topic that the Mission locale is asked to act on the young person.
        partner = {"authorization": f"Bearer {keys['partner']}"}
        while (await http["intake"].post(f"/v1/people/{young}/identity", json=REASON,
                                         headers=partner)).status_code != 200:
            assert asyncio.get_running_loop().time() < deadline, "intake never learnt who is asked to act"
            await asyncio.sleep(0.2)

        async def cell(caller: str, column: str, headers: dict[str, str]) -> httpx.Response:
            if column.startswith("erase "):
                return await http["intake"].post("/v1/erasures", headers=headers, json={
                    "person_id": to_erase[column][caller], "reason": "person_request"})
            if column == "erasures":
                return await http["intake"].get("/v1/erasures", headers=headers)
            if column.startswith("export"):  # "own": the person referred to the Mission locale
                person = young if column.endswith("own") else older
                return await http["intake"].get(f"/v1/people/{person}/export", headers=headers,
                                                params={"reason": "demande d'accès de la personne"})
            if column.startswith("referrals"):
                to = ML if column.endswith("own") else CAP
                return await http["referral"].get("/v1/referrals", params={"to": to}, headers=headers)
            if column == "report":
                return await http["reporting"].get("/v1/report", headers=headers)
            if column == "digest":
                return await http["reporting"].get("/v1/report/digest", headers=headers)
            if column.startswith("worklist"):
                params = {} if column.endswith("own") else {"structure": CAP}
                return await http["followup"].get("/v1/worklist", params=params, headers=headers)
            if column == "caseload own":
                return await http["followup"].get("/v1/caseload", headers=headers)
            if column.startswith("timeline"):
                person = young if column.endswith("own") else older
                return await http["followup"].get(f"/v1/people/{person}/timeline", headers=headers)
            if column.startswith("identity"):  # "own": the person referred to the Mission locale
                person = young if column.endswith("own") else older
                return await http["intake"].post(f"/v1/people/{person}/identity", json=REASON, headers=headers)
            if column == "disclosures":
                return await http["intake"].get("/v1/disclosures", headers=headers)
            source = ML if column.endswith("own") else CAP
            return await http["intake"].post("/v1/events", json=[registration(source)], headers=headers)

        seen: dict[str, tuple[int, ...]] = {}
        for caller in TABLE:
            headers = {"authorization": f"Bearer {keys[caller]}"} if caller in keys else {}
            answers = [await cell(caller, column, headers) for column in COLUMNS]
            seen[caller] = tuple(a.status_code for a in answers)
            for column, answer in zip(COLUMNS, answers, strict=True):
                if answer.status_code == 401 and not column.startswith(("events", "identity", "disclosures", "erase",
                                                                        "export")):
                    assert answer.headers["www-authenticate"] == "Bearer", (caller, column)
        assert seen == TABLE

        # Who was erased, and by whom: exactly the erasures the table allowed, each once.
        erased = (await http["intake"].get("/v1/erasures", headers=coordinator)).json()["items"]
        assert sorted((row["person_id"], row["role"]) for row in erased) == sorted(
            (to_erase[column][caller], caller) for caller, column in (
                ("partner", "erase own"), ("counsellor", "erase own"), ("coordinator", "erase own"),
                ("coordinator", "erase other")))

        # Every identity shown is itself on the audit list: who saw whom, on what basis.
        listed = (await http["intake"].get("/v1/disclosures", headers=coordinator)).json()["items"]
        shown = {(row["disclosed_to"], row["person_id"], row["basis"]) for row in listed}
        assert {(ML, young, "asked_to_act"), (COORDINATOR, young, "coordinator_reveal"),
                (COORDINATOR, older, "coordinator_reveal")} <= shown, shown
        assert (ML, older, "asked_to_act") not in shown

        # What a 200 holds: a structure's keys see its own referrals, the coordinator's every one.
        for caller in ("partner", "counsellor"):
            rows = (await http["referral"].get("/v1/referrals", headers={"authorization": f"Bearer {keys[caller]}"}))
            assert rows.status_code == 200 and rows.json() and {r["to_structure"] for r in rows.json()} == {ML}
        cap = {"authorization": f"Bearer {await partner_key(CAP)}"}
        assert (await http["referral"].get("/v1/referrals", headers=cap)).json() == []

        # A revocation reaches the running services at the next request, without a restart.
        book.revoke(book.check(keys["counsellor"]).key_id)
        counsellor = {"authorization": f"Bearer {keys['counsellor']}"}
        assert (await http["referral"].get("/v1/referrals", headers=counsellor)).status_code == 401
        book.revoke(book.check(keys["auditor"]).key_id)
        assert (await http["reporting"].get("/v1/report", headers={
            "authorization": f"Bearer {keys['auditor']}"})).status_code == 401
