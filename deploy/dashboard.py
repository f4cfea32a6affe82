"""The Grafana dashboard of the module's metrics (synapse_groupreg/metrics.py),
written as `docker/grafana/dashboards/groupreg.json`. The container stack
provisions it; the demo's metrics listener serves the same metrics, so the
same file imports into any Grafana with a Prometheus that scrapes the demo
(scripts/demo.py prints how).

Panels: decisions by check and outcome, refusals by reason, check latency,
checks that failed and answered by their fail mode, complaints open and
overdue, and the progress of adopting an existing server's rooms (the
`groupreg_adoption_rooms{state}` gauge, which shows data once adoption
exists in the module).
"""

from __future__ import annotations

import json
from typing import Any

UID = "synapse-groupreg"
#: Every metric the dashboard reads, and whether the module exports it yet.
METRICS = {
    "groupreg_decisions_total": True,
    "groupreg_check_seconds_bucket": True,
    "groupreg_check_failures_total": True,
    "groupreg_complaints_open": True,
    "groupreg_complaints_overdue": True,
    "groupreg_adoption_rooms": True,
    "groupreg_would_refuse_total": True,
}

_SOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    number: int,
    title: str,
    description: str,
    targets: list[tuple[str, str]],
    position: tuple[int, int, int, int],
    kind: str = "timeseries",
    unit: str = "short",
) -> dict[str, Any]:
    x, y, w, h = position
    return {
        "id": number,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": _SOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "right"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": _SOURCE,
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict[str, Any]:
    panels = [
        _panel(
            1,
            "Decisions by check and outcome",
            "Every decision of the module's checks per second; outcome is"
            " 'allow' or the refusal's reason code.",
            [
                (
                    "sum by (check, outcome) (rate(groupreg_decisions_total[5m]))",
                    "{{check}} {{outcome}}",
                )
            ],
            (0, 0, 12, 9),
            unit="ops",
        ),
        _panel(
            2,
            "Refusals by reason",
            "Refusals per second, by the reason users see in org.groupreg.reason.",
            [
                (
                    "sum by (outcome)"
                    ' (rate(groupreg_decisions_total{outcome!="allow"}[5m]))',
                    "{{outcome}}",
                )
            ],
            (12, 0, 12, 9),
            unit="ops",
        ),
        _panel(
            3,
            "Check latency",
            "How long each check takes (99th and 50th percentile). The"
            " per-message checks should stay well under a millisecond.",
            [
                (
                    "histogram_quantile(0.99, sum by (check, le)"
                    " (rate(groupreg_check_seconds_bucket[5m])))",
                    "p99 {{check}}",
                ),
                (
                    "histogram_quantile(0.5, sum by (check, le)"
                    " (rate(groupreg_check_seconds_bucket[5m])))",
                    "p50 {{check}}",
                ),
            ],
            (0, 9, 12, 9),
            unit="s",
        ),
        _panel(
            4,
            "Check failures",
            "Checks that could not decide and answered by their fail mode"
            " (closed: MODULE_UNAVAILABLE; open: allowed). Each is in the log.",
            [
                (
                    "sum by (check, mode) (rate(groupreg_check_failures_total[5m]))",
                    "{{check}} ({{mode}})",
                )
            ],
            (12, 9, 12, 9),
            unit="ops",
        ),
        _panel(
            5,
            "Complaints open and overdue",
            "Cases and appeals waiting for a decision, and those past a"
            " deadline (refreshed by the background-tasks instance).",
            [
                ("sum by (kind) (groupreg_complaints_open)", "open {{kind}}"),
                ("sum by (kind) (groupreg_complaints_overdue)", "overdue {{kind}}"),
            ],
            (0, 18, 12, 8),
        ),
        _panel(
            6,
            "Adoption progress",
            "Rooms of an existing server taken into the registry, by state"
            " (registered, pending, skipped, failed), set by the"
            " background-tasks instance (docs/operations.md).",
            [("sum by (state) (groupreg_adoption_rooms)", "{{state}}")],
            (12, 18, 12, 8),
            kind="bargauge",
        ),
        _panel(
            7,
            "Observe mode: what would be refused",
            "Refusals of checks in observe mode (enforcement: observe), which"
            " let the action through, by check and reason, per second.",
            [
                (
                    "sum by (check, reason) (rate(groupreg_would_refuse_total[5m]))",
                    "{{check}} {{reason}}",
                )
            ],
            (0, 26, 24, 8),
        ),
    ]
    return {
        "uid": UID,
        "title": "synapse-groupreg",
        "description": "synapse-groupreg: decisions, latency, failures, complaints,"
        " adoption, observe mode",
        "tags": ["synapse", "synapse-groupreg"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "panels": panels,
    }


def expressions(document: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in document["panels"] for t in p["targets"]]


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"
