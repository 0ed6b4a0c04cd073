"""Parsing h2load's per-request log and summary (bench/load.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import load

LOG = "1795612315024966\t200\t1204\n1795612315024715\t200\t1551\n\n1795612315026264\t503\t1065\n"

SUMMARY = """
finished in 5.00s, 2345.60 req/s, 1.20MB/s
requests: 11728 total, 11760 started, 11728 done, 11700 succeeded, 28 failed, 3 errored, 1 timeout
status codes: 11700 2xx, 0 3xx, 0 4xx, 25 5xx
traffic: 6.01MB (6300000) total, 1.00MB (1000000) headers (space savings 0.00%)
"""


def test_parse_log() -> None:
    samples = load.parse_log(LOG)
    assert samples[0] == load.Sample(1795612315024966, 200, 1204)
    assert [s.status for s in samples] == [200, 200, 503]


def test_parse_log_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        load.parse_log("1\t200\n")
    with pytest.raises(ValueError):
        load.parse_log("a\tb\tc\n")


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert load.percentile(values, 50) == 50
    assert load.percentile(values, 99) == 99
    assert load.percentile(values, 100) == 100
    assert load.percentile([7.0], 99) == 7.0
    assert math.isnan(load.percentile([], 50))


def test_parse_summary() -> None:
    s = load.parse_summary(SUMMARY)
    assert s.rps == pytest.approx(2345.6)
    assert (s.total, s.succeeded, s.failed, s.errored, s.timeout) == (11728, 11700, 28, 3, 1)
    assert s.status_classes == {"2xx": 11700, "3xx": 0, "4xx": 0, "5xx": 25}
    with pytest.raises(ValueError):
        load.parse_summary("something else")


def test_result_counts_non_2xx_and_unlogged_failures() -> None:
    summary = load.parse_summary(SUMMARY)
    result = load.result_from(32, load.parse_log(LOG), summary)
    assert result.rps == pytest.approx(2345.6)
    assert result.p50_ms == pytest.approx(1.204)  # only 2xx requests enter the latencies
    # One 503 in the log; 28 + 3 + 1 failures counted by h2load, one of them logged.
    assert result.non_2xx == {-1: 31, 503: 1}
    assert result.problems == 32


def test_command_shape() -> None:
    spec = load.Load(
        url="http://h:1/x",
        connections=32,
        duration_s=5,
        warmup_s=1,
        data_file=Path("/tmp/body"),
        headers=("content-type: application/grpc", "te: trailers"),
    )
    cmd = load.command("h2load", spec, Path("/tmp/log"))
    assert "--clients=32" in cmd and "--max-concurrent-streams=1" in cmd
    assert "--data=/tmp/body" in cmd and "--h1" not in cmd
    assert cmd[-1] == "http://h:1/x"
    assert cmd.count("--header") == 2
