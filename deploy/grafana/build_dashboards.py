"""Writes the dashboards' JSON from the panel lists below: `python deploy/grafana/build_dashboards.py`.

Every expression uses only metrics the services serve; a test runs each one against a real Prometheus.
"""

from __future__ import annotations

import json
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "ariane-prometheus"}
HERE = Path(__file__).parent / "dashboards"

DASHBOARDS = {
    "territory-overview": ("Ariane — territory overview", [
        ("stat", "People lost right now", ["ariane_reporting_people_lost_now"]),
        ("stat", "People ever lost", ["ariane_reporting_people_lost"]),
        ("stat", "People re-engaged", ["ariane_reporting_people_reengaged"]),
        ("bargauge", "People by state", ["sum by (state) (ariane_reporting_persons)"]),
        ("table", "People held, by structure and state", ["sum by (structure, state) (ariane_reporting_persons)"]),
        ("bargauge", "Lost people by structure that must act",
         ['sum by (structure) (ariane_reporting_persons{state="lost"})']),
        ("table", "Flows between structures (referrals issued)",
         ['sum by (from_structure, to_structure) (ariane_reporting_referrals{outcome="issued"})']),
        ("timeseries", "Lost and re-engaged over time",
         ["ariane_reporting_people_lost_now", "ariane_reporting_people_reengaged"]),
    ]),
    "referrals-and-delays": ("Ariane — referrals and delays against SLA", [
        ("timeseries", "Median delay (days) per stage",
         ["histogram_quantile(0.5, sum by (le, stage) (ariane_reporting_referral_delay_days_bucket))"]),
        ("timeseries", "Last decile delay (days) per stage",
         ["histogram_quantile(0.9, sum by (le, stage) (ariane_reporting_referral_delay_days_bucket))"]),
        ("stat", "Referrals accepted within 15 days (SLA)",
         ['sum(ariane_reporting_referral_delay_days_bucket{stage="referral_to_acceptance", le="15"})'
          ' / sum(ariane_reporting_referral_delay_days_count{stage="referral_to_acceptance"})']),
        ("bargauge", "Share of referrals expired, by receiving structure",
         ['sum by (to_structure) (ariane_reporting_referrals{outcome="expired"})'
          ' / sum by (to_structure) (ariane_reporting_referrals{outcome="issued"})']),
        ("table", "Referral outcomes by receiving structure",
         ["sum by (to_structure, outcome) (ariane_reporting_referrals)"]),
    ]),
    "outcomes": ("Ariane — outcomes per dispositif", [
        ("bargauge", "Exits by class", ["sum by (exit_class) (ariane_reporting_exits)"]),
        ("table", "Exits by dispositif and class", ["sum by (dispositif, exit_class) (ariane_reporting_exits)"]),
        ("stat", "Share of exits to lasting employment",
         ['sum(ariane_reporting_exits{exit_class="emploi_durable"}) / sum(ariane_reporting_exits)']),
        ("bargauge", "People in employment, by structure",
         ['sum by (structure) (ariane_reporting_persons{state="in_employment"})']),
    ]),
    "barriers": ("Ariane — freins périphériques", [
        ("bargauge", "Barriers identified by kind",
         ['sum by (kind) (ariane_reporting_barriers{status="identified"})']),
        ("bargauge", "Barriers lifted by kind", ['sum by (kind) (ariane_reporting_barriers{status="lifted"})']),
        ("table", "Barriers lifted by dispositif",
         ['sum by (dispositif, kind) (ariane_reporting_barriers{status="lifted", dispositif!="none"})']),
    ]),
    "pipeline-health": ("Ariane — pipeline health", [
        ("stat", "Services up", ['up{job=~"ariane-.*"}']),
        ("timeseries", "Consumer lag per service and partition",
         ["sum by (service, topic, partition) (ariane_consumer_lag)"]),
        ("timeseries", "Dead-letter rate (events/s)",
         ["sum by (service) (rate(ariane_events_dead_lettered_total[5m]))"]),
        ("timeseries", "Transient error rate (retries/s)",
         ["sum by (service) (rate(ariane_handler_retries_total[5m]))"]),
        ("timeseries", "Events handled per second",
         ["sum by (service, topic) (rate(ariane_events_processed_total[5m]))"]),
        ("timeseries", "Batch time p95 (s)",
         ["histogram_quantile(0.95, sum by (le, service) (rate(ariane_consumer_batch_seconds_bucket[5m])))"]),
        ("timeseries", "Outbox pending", ["sum by (service) (ariane_outbox_pending)"]),
    ]),
}


def panel(pid: int, kind: str, title: str, exprs: list[str]) -> dict:
    width = 8 if kind == "stat" else 12
    return {
        "id": pid, "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width, "x": (pid - 1) % 2 * 12, "y": (pid - 1) // 2 * 8},
        "targets": [{"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr,
                     "instant": kind in ("table", "bargauge", "stat"), "legendFormat": "__auto"}
                    for n, expr in enumerate(exprs)],
        "options": {}, "fieldConfig": {"defaults": {}, "overrides": []},
    }


def dashboard(uid: str, title: str, panels: list) -> dict:
    return {
        "uid": f"ariane-{uid}", "title": title, "tags": ["ariane"], "schemaVersion": 39, "version": 1,
        "editable": False, "time": {"from": "now-7d", "to": "now"}, "refresh": "1m", "timezone": "Europe/Paris",
        "panels": [panel(n, *spec) for n, spec in enumerate(panels, start=1)],
    }


if __name__ == "__main__":
    for uid, (title, panels) in DASHBOARDS.items():
        path = HERE / f"{uid}.json"
        path.write_text(json.dumps(dashboard(uid, title, panels), indent=2, ensure_ascii=False) + "\n")
        print(path)
