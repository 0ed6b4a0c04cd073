"""h2load runner: one load generator for direct gRPC, our edge and Envoy.

h2load (Debian's nghttp2-client) prints requests/s but no percentiles; with
`--log-file` it writes one line per request, ``<start us>\\t<status>\\t<duration us>``,
from which p50/p99 are computed here. Only requests of the measured phase are logged
(h2load skips the warm-up phase). Failed requests (connection errors, timeouts) are
logged with status -1; they and any non-2xx status are counted, never hidden.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

APT_PACKAGE = "nghttp2-client"


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# --- installing the tool -------------------------------------------------------------


def _apt(args: Sequence[str]) -> bool:
    cmd = ["apt-get", *args]
    if os.geteuid() != 0 and shutil.which("sudo"):
        cmd = ["sudo", "-n", *cmd]
    log("running: " + " ".join(cmd))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return done.returncode == 0


def ensure_tool(name: str = "h2load") -> str:
    """Path of `name` (h2load or nghttp); installs nghttp2-client with apt-get if missing."""
    found = shutil.which(name)
    if found:
        return found
    if not shutil.which("apt-get"):
        raise RuntimeError(f"{name} not found and no apt-get: install {APT_PACKAGE} by hand")
    log(f"{name} not found: installing {APT_PACKAGE} with apt-get ...")
    install = ["install", "-y", "--no-install-recommends", APT_PACKAGE]
    if not _apt(install):
        log("install failed: refreshing the package lists (apt-get update) and retrying ...")
        _apt(["update"])
        _apt(install)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} still not found after installing {APT_PACKAGE}")
    log(f"installed {found}")
    return found


# --- parsing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    start_us: int
    status: int  # HTTP status; -1 when the request failed (reset, timeout, ...)
    duration_us: int


def parse_log(text: str) -> list[Sample]:
    """Parse h2load's --log-file: tab-separated start time, status, duration (us)."""
    samples: list[Sample] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"h2load log line {n}: expected 3 tab-separated fields: {line!r}")
        start, status, duration = (int(p) for p in parts)
        samples.append(Sample(start, status, duration))
    return samples


def interpreter() -> str:
    """The Python running the bench and the services it starts: its version and
    real executable. Builds of one version differ in speed (tools/bootstrap.sh
    prefers the distribution's optimised one), so figures name the build."""
    return f"{platform.python_version()} ({os.path.realpath(sys.executable)})"


def python_speed_ms(rounds: int = 5) -> float:
    """Milliseconds a fixed pure-Python loop (a million additions) takes here, best of
    `rounds`: how fast this machine runs Python right now. Shared VMs vary by 2-3x
    from day to day and hour to hour; printed beside a bench's figures, it tells a
    slower run from a slower machine."""
    import timeit

    return min(timeit.repeat("sum(range(1_000_000))", number=1, repeat=rounds)) * 1000


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; nan when empty."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    """The numbers h2load prints at the end of a run."""

    rps: float
    total: int
    succeeded: int
    failed: int
    errored: int
    timeout: int
    status_classes: dict[str, int]


_FINISHED = re.compile(r"finished in [\d.]+\w*, ([\d.]+) req/s")
_REQUESTS = re.compile(
    r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout"
)
_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def parse_summary(stdout: str) -> Summary:
    finished = _FINISHED.search(stdout)
    requests = _REQUESTS.search(stdout)
    status = _STATUS.search(stdout)
    if not (finished and requests and status):
        raise ValueError(f"unexpected h2load output:\n{stdout[-1500:]}")
    total, ok, failed, errored, timeout = (int(g) for g in requests.groups())
    classes = dict(
        zip(("2xx", "3xx", "4xx", "5xx"), (int(g) for g in status.groups()), strict=True)
    )
    return Summary(float(finished.group(1)), total, ok, failed, errored, timeout, classes)


# --- running -------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One h2load run: `connections` clients, one request in flight each."""

    url: str
    connections: int
    duration_s: int
    warmup_s: int
    h1: bool = False  # HTTP/1.1 (edge, Envoy REST); otherwise h2c with prior knowledge
    data_file: Path | None = None  # request body: makes h2load POST
    headers: tuple[str, ...] = ()


@dataclass
class Result:
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: dict[int, int] = field(default_factory=dict)  # status -> count (-1: failed)
    summary: Summary | None = None

    @property
    def problems(self) -> int:
        return sum(self.non_2xx.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "connections": self.connections,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "requests": self.requests,
            "non_2xx": {str(k): v for k, v in self.non_2xx.items()},
        }


def command(h2load: str, load: Load, log_file: Path) -> list[str]:
    cmd = [
        h2load,
        f"--clients={load.connections}",
        "--threads=1",
        "--max-concurrent-streams=1",
        f"--duration={load.duration_s}",
        f"--warm-up-time={load.warmup_s}",
        f"--log-file={log_file}",
    ]
    if load.h1:
        cmd.append("--h1")
    if load.data_file is not None:
        cmd.append(f"--data={load.data_file}")
    for h in load.headers:
        cmd += ["--header", h]
    return [*cmd, load.url]


def result_from(connections: int, samples: Sequence[Sample], summary: Summary | None) -> Result:
    ok = [s.duration_us / 1000 for s in samples if 200 <= s.status < 300]
    bad = Counter(s.status for s in samples if not 200 <= s.status < 300)
    if summary is not None:
        rps = summary.rps
        # Requests h2load counted as failed but did not log still show up as problems.
        unlogged = summary.failed + summary.errored + summary.timeout - sum(bad.values())
        if unlogged > 0:
            bad[-1] += unlogged
    else:
        span_us = max(s.start_us + s.duration_us for s in samples) - min(
            s.start_us for s in samples
        )
        rps = len(samples) / (span_us / 1e6) if span_us > 0 else math.nan
    return Result(
        connections=connections,
        rps=rps,
        p50_ms=percentile(ok, 50),
        p99_ms=percentile(ok, 99),
        requests=len(samples),
        non_2xx=dict(sorted(bad.items())),
        summary=summary,
    )


async def run(h2load: str, load: Load) -> Result:
    """Run h2load once; killed (not left behind) if the caller is cancelled."""
    with tempfile.TemporaryDirectory(prefix="cleanse-bench-") as tmp:
        log_file = Path(tmp) / "h2load.log"
        cmd = command(h2load, load, log_file)
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(), load.duration_s + load.warmup_s + 60
            )
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        stdout = out.decode(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(
                f"h2load exited {proc.returncode}: {' '.join(cmd)}\n{stdout}{err.decode()}"
            )
        summary = parse_summary(stdout)
        samples = parse_log(log_file.read_text())
    if not samples:
        raise RuntimeError(f"h2load logged no requests: {' '.join(cmd)}\n{stdout}")
    return result_from(load.connections, samples, summary)
