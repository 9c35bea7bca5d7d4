"""The pipeline benchmark still runs end to end (`make bench`'s bench/bench_pipeline.py, tiny sizes): the raw hop
moves every record it is given, every event sent over HTTP and onto the inbound topic is accepted and published
by intake, every paced event reaches reporting, /health is probed throughout, each process's CPU time is
accounted, and the JSON result is written. No figure is judged here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import bench_pipeline  # noqa: E402

EVENTS, WARM, RATE, SECONDS = 60, 10, 20, 1.0


async def test_pipeline_bench_small(kafka_bootstrap: str, tmp_path: Path) -> None:
    args = bench_pipeline.arguments(["--events", str(EVENTS), "--warm", str(WARM), "--rates", str(RATE),
                                     "--seconds", str(SECONDS), "--drain-timeout", "240",
                                     "--out-dir", str(tmp_path / "results")])
    result, path = await bench_pipeline.measure(kafka_bootstrap, args, tmp_path / "scratch")

    paced = round(RATE * SECONDS)
    assert result["raw_hop"]["throughput"]["events"] == result["raw_hop"]["throughput_alone"]["events"] == EVENTS
    verdicts = result["http"]["throughput"]["verdicts"]  # a resend after a dropped answer is a duplicate
    assert verdicts.get("accepted", 0) + verdicts.get("duplicate", 0) == sum(verdicts.values()) == EVENTS
    assert result["http"]["throughput"]["published_by_intake"] == WARM + EVENTS
    assert result["kafka"]["throughput"]["published_by_intake"] == WARM + EVENTS
    assert result["http"]["latency"][str(RATE)]["visible"] == paced
    assert result["http"]["latency"][str(RATE)]["from_post"]["n"] == paced
    assert result["http"]["latency"][str(RATE)]["from_due"]["n"] == paced
    assert result["raw_hop"]["latency"][str(RATE)]["n"] == paced
    # /health was probed during the paced load as well (every 100 ms, for the load's second)
    assert result["http"]["latency"][str(RATE)]["health"]["intake"]["n"] > 0
    assert result["http"]["latency"][str(RATE)]["health_live"]["followup"]["n"] > 0
    for way in ("http", "kafka"):
        assert result[way]["health"]["intake"]["n"] > 0 and result[way]["health"]["followup"]["n"] > 0
        assert result[way]["health_live"]["intake"]["n"] > 0 and result[way]["health_live"]["followup"]["n"] > 0
        # …and on each one's operations port, where every probe found the service healthy
        assert result[way]["health_ops"]["intake"]["n"] > 0 and result[way]["health_ops"]["followup"]["n"] > 0
        assert result[way]["health_ops"]["intake"]["failed"] == result[way]["health_ops"]["followup"]["failed"] == 0
        # the idle control, asked at the same moments, apart from the services' operations ports
        assert result[way]["health_control"]["n"] > 0 and result[way]["health_control"]["failed"] == 0
        assert set(result[way]["health_ops"]) == {"intake", "followup"}
        # /metrics scraped on both ports; a failed scrape would count as the 30-s timeout
        scrapes = result[way]["metrics_scrape"]
        assert set(scrapes) == {"intake api", "intake ops", "reporting api", "reporting ops"}, scrapes
        assert all(m["n"] > 0 and m["max_ms"] < 30_000 for m in scrapes.values()), scrapes
        # the loop's lag and the collector's passes were read from each probed service's /metrics
        seen = result[way]["loop_and_gc"]["intake"]
        assert seen["lag_over_50ms"] is not None and seen["gc"]["0"]["passes"] > 0, seen
        # Each service's CPU time in the timed window was read (the broker is the fixture's: not this run's).
        cpu = result[way]["throughput"]["cpu"]["seconds"]
        assert {"intake", "referral", "followup", "reporting", "benchmark"} <= set(cpu), cpu
        assert cpu["intake"] > 0, cpu
    assert result["services_runtime"] == {"event_loop": "uvloop", "http_parser": "httptools"}
    written = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == tmp_path / "results" and written["benchmark"] == "pipeline"
    assert written["events"] == EVENTS and written["machine"]["nproc"] >= 1
