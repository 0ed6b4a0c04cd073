"""The alert and the dashboard over settings' tax_rate_fallbacks_total (GST rate
resolutions that fell back to the standard rate or named an unknown tax class):
observability/prometheus/rules.yml (CleanseTaxRateFallback) and
observability/dashboards/grafana-gst.json. No promtool here: the files are parsed and
their PromQL checked against the metric and labels settings really exports."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from services.settings.handlers.tax import FALLBACK_REASONS, FALLBACKS
from tests.mesh.test_observability import ROOT, alert_rule, referenced_metrics, service_metrics

METRIC = "tax_rate_fallbacks_total"


def alert() -> dict:
    return alert_rule("CleanseTaxRateFallback")


def test_the_metric_is_the_one_settings_counts() -> None:
    # prometheus_client keeps a counter's name without "_total" and exports it with.
    assert FALLBACKS._name + "_total" == METRIC
    assert tuple(FALLBACKS._labelnames) == ("reason",)
    assert METRIC in service_metrics()
    assert FALLBACK_REASONS == ("hsn_not_covered", "unknown_tax_class")


def test_alert_fires_on_any_fallback_per_reason() -> None:
    rule = alert()
    expr = rule["expr"]
    assert referenced_metrics(expr) == {METRIC}
    # A counter: its increase, never its raw value (which only grows) or a bare rate
    # over a window shorter than the pricing cache makes fallbacks arrive in.
    assert re.search(rf"increase\({METRIC}\[1h\]\)", expr), expr
    assert re.fullmatch(r"sum by \(job, reason\) \(.*\) > 0", expr), expr
    assert "for" not in rule  # one fallback is enough: a product is taxed by the fallback
    assert rule["labels"]["severity"] == "warning"
    notes = rule["annotations"]
    assert "{{ $labels.reason }}" in notes["summary"]
    assert "cleanse.settings.tax" in notes["description"]  # where the HSN code is logged
    for reason in FALLBACK_REASONS[1:]:
        assert f'"{reason}"' in notes["description"]


def test_both_reasons_are_exported_at_zero_from_the_start() -> None:
    """increase() sees nothing of a series that first appears already at 1, so the
    first fallback after a start would never alert: the handler module creates both
    series at 0. A fresh interpreter: this test process has counted fallbacks."""
    code = (
        "import services.settings.handlers.tax\n"
        "from prometheus_client import REGISTRY\n"
        "for r in ('hsn_not_covered', 'unknown_tax_class'):\n"
        f"    print(r, REGISTRY.get_sample_value('{METRIC}', {{'reason': r}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["hsn_not_covered", "0.0", "unknown_tax_class", "0.0"]


def test_gst_dashboard_shows_the_fallbacks_by_reason() -> None:
    dash = json.loads((ROOT / "observability/dashboards/grafana-gst.json").read_text())
    assert dash["uid"] == "cleanse-gst" and dash["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [
        re.sub(r",\s*\w+\)\s*$", ")", v["query"])
        for v in dash["templating"]["list"]
        if v["type"] == "query"
    ]
    used = set().union(*(referenced_metrics(e) for e in exprs))
    assert used == {METRIC}
    by_reason = [
        p
        for p in dash["panels"]
        for t in p["targets"]
        if METRIC in t["expr"] and "by (reason)" in t["expr"] and "increase(" in t["expr"]
    ]
    assert by_reason and all("{{reason}}" in t["legendFormat"] for t in by_reason[0]["targets"])
    for p in dash["panels"]:
        assert p["gridPos"]["w"] > 0 and p["gridPos"]["h"] > 0
        assert p["datasource"]["uid"] == "${datasource}"
