"""The alert over the order service's order_restocks_refused_total (restocks inventory
refused for good: units still out of stock on its books), in
observability/prometheus/rules.yml. No promtool here: the rule is parsed and its
PromQL checked against the metric and labels the order service really exports."""

from __future__ import annotations

import re
import subprocess
import sys

from services.order.handlers.restocks import KNOWN_REFUSALS, RESTOCKS_REFUSED
from tests.mesh.test_observability import ROOT, alert_rule, referenced_metrics, service_metrics

METRIC = "order_restocks_refused_total"


def alert() -> dict:
    return alert_rule("CleanseRestockRefused")


def test_the_alert_counts_the_refusals_the_order_service_exports() -> None:
    assert RESTOCKS_REFUSED._name + "_total" == METRIC
    assert tuple(RESTOCKS_REFUSED._labelnames) == ("reason",)
    assert METRIC in service_metrics()
    rule = alert()
    assert referenced_metrics(rule["expr"]) == {METRIC}
    assert re.fullmatch(
        rf"sum by \(job, reason\) \(increase\({METRIC}\[1h\]\)\) > 0", rule["expr"]
    ), rule["expr"]
    assert "for" not in rule  # one refusal is enough: stock is wrong until corrected
    assert rule["labels"]["severity"] == "warning"
    assert "cleanse.order.restocks" in rule["annotations"]["description"]


def test_known_refusals_are_exported_at_zero_from_the_start() -> None:
    """increase() sees nothing of a series that first appears already at 1: the first
    refusal after a start would never alert. A fresh interpreter, as this test
    process may have counted refusals."""
    code = (
        "import services.order.handlers.restocks\n"
        "from prometheus_client import REGISTRY\n"
        f"for r in {KNOWN_REFUSALS!r}:\n"
        f"    print(r, REGISTRY.get_sample_value('{METRIC}', {{'reason': r}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [x for r in KNOWN_REFUSALS for x in (r, "0.0")]
