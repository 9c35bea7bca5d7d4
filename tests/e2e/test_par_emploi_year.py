"""End to end: the Par'Emploi year as `ariane demo --preset par-emploi` runs it (the four services as processes
on the real broker, each partner's events over HTTP with its key, a drain check between days), and the
dispositifs table of reporting's report shows the Par'Emploi seed's own figures within one family and one
point; the demo's seed table prints the same lines from that report.

The figures below are the seed's, copied from the Cité de l'emploi's page on Par'Emploi: "63 familles, dont
76% en situation de monoparentalité [...] 15 solutions d'accueil temporaire, 14 solutions d'accueil permanent,
2 accueils auprès d'assistante maternelle. Et ce pour 17 retours à l'emploi et à la formation." They are not
read from the simulator, whose preset is what is being checked."""

from __future__ import annotations

import io
import uuid

import pytest
from rich.console import Console

from cli.par_emploi_table import render_seed_table, seed_lines
from contracts.vocabulary import ChildcareSolution
from local.pipeline import LocalPipeline
from simulator.driver import drive
from simulator.presets import SeedFigures
from simulator.senders import HttpSender
from simulator.year import simulate

# store_independent: the preset's table is the simulator's and the rules'; the territory and late-partners years cover PostgreSQL.
pytestmark = [pytest.mark.e2e, pytest.mark.store_independent, pytest.mark.timeout(900)]

FAMILIES = 63
SINGLE_PARENT_PERMILLE = 760
TEMPORARY, PERMANENT, ASSISTANTE_MATERNELLE = 15, 14, 2
RETURNS = 17
DISPOSITIF = "par_emploi_garde"


async def test_the_par_emploi_year_reports_the_seed_table(kafka_bootstrap, database_backend,  # noqa: ANN001
                                                          database_url_factory, tmp_path) -> None:
    database_url = await database_url_factory("paremploi") if database_backend == "postgresql" else None
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"pe-{uuid.uuid4().hex[:10]}.",
                             database_url=database_url)
    try:
        await pipeline.start(bootstrap=kafka_bootstrap)
        year = simulate("par-emploi", seed=1)
        sender = HttpSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                            security=pipeline.kafka_security())
        await sender.start()
        try:
            await drive(year.stream(), sender, drained=pipeline.day_boundary)
        finally:
            await sender.stop()
        await pipeline.drained()
        report, _digest = await pipeline.report()
    finally:
        await pipeline.stop()

    assert not sender.rejected, sender.rejected[:5]
    assert sender.unresolved == 0, sender.unresolved_examples[:5]
    rows = [r for r in report["dispositifs"] if r["dispositif"] == DISPOSITIF]
    assert len(rows) == 1, report["dispositifs"]
    row = rows[0]
    print(f"\n[{database_backend}] Par'Emploi row of the report: {row}")
    assert abs(row["families_followed"] - FAMILIES) <= 1
    assert abs(row["single_parent_permille"] - SINGLE_PARENT_PERMILLE) <= 10
    assert abs(row["childcare_temporary"] - TEMPORARY) <= 1
    assert abs(row["childcare_permanent"] - PERMANENT) <= 1
    assert abs(row["childcare_assistante_maternelle"] - ASSISTANTE_MATERNELLE) <= 1
    assert abs(row["returns_to_job_or_training"] - RETURNS) <= 1

    # The demo's table: the seed column as written above, the Ariane column from this report.
    seed = SeedFigures(families=FAMILIES, single_parent_share=SINGLE_PARENT_PERMILLE / 1000,
                       childcare=((ChildcareSolution.ACCUEIL_TEMPORAIRE, TEMPORARY),
                                  (ChildcareSolution.ACCUEIL_PERMANENT, PERMANENT),
                                  (ChildcareSolution.ASSISTANTE_MATERNELLE, ASSISTANTE_MATERNELLE)),
                       returns=RETURNS)
    lines = seed_lines(report, DISPOSITIF, seed)
    assert [line.ariane for line in lines] == [
        row["families_followed"], row["single_parent_permille"], row["childcare_temporary"],
        row["childcare_permanent"], row["childcare_assistante_maternelle"], row["returns_to_job_or_training"]]
    out = io.StringIO()
    assert render_seed_table(report, DISPOSITIF, seed, Console(file=out, width=120))
    print(out.getvalue())
