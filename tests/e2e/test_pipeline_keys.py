"""The local pipeline's keys, as the demo and the end-to-end tests use them: the services run as processes, the
run's credentials book holds the coordinator's key and the partner keys, and a test can issue more."""

from __future__ import annotations

import uuid

from contracts.territory import load_territory
from local.pipeline import LocalPipeline


async def test_the_pipeline_book_serves_its_keys_to_every_service(kafka_bootstrap, tmp_path) -> None:  # noqa: ANN001
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"keys-{uuid.uuid4().hex[:10]}.", partitions=1)
    try:
        await pipeline.start(bootstrap=kafka_bootstrap)
        assert pipeline.client is not None
        report, digest = await pipeline.report()  # the coordinator's key
        assert report["territory"] == load_territory().id and digest.startswith("sha256:")
        assert (await pipeline.worklist())["items"] == []  # followup, still on its own table, takes the same key
        referrals = f"{pipeline.url('referral')}/v1/referrals"
        assert (await pipeline.client.get(referrals)).status_code == 401

        structure = "cap_emploi_49"
        counsellor = {"authorization": f"Bearer {pipeline.issue_key('counsellor', structure, counsellor='c-1')}"}
        assert (await pipeline.client.get(referrals, headers=counsellor)).status_code == 200
        assert (await pipeline.client.get(f"{pipeline.url('reporting')}/v1/report",
                                          headers=counsellor)).status_code == 403
        partner = {"authorization": f"Bearer {pipeline.api_keys[structure]}"}  # a partner key reads too
        assert (await pipeline.client.get(referrals, headers=partner)).status_code == 200
        assert (await pipeline.client.get(referrals, params={"to": "plie_angers"}, headers=partner)).status_code == 403
    finally:
        await pipeline.stop()
