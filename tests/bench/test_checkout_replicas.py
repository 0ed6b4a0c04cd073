"""The checkout bench's order replicas: the knob, the mesh's environment, the CPU table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import checkout
from mesh import registry


def test_the_knob_defaults_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_ORDER_REPLICAS", raising=False)
    assert checkout.Settings.from_env().order_replicas == checkout.DEFAULT_ORDER_REPLICAS
    monkeypatch.setenv("BENCH_ORDER_REPLICAS", "1")
    assert checkout.Settings.from_env().order_replicas == 1
    for bad in ("0", "two", str(registry.MAX_REPLICAS + 1)):
        monkeypatch.setenv("BENCH_ORDER_REPLICAS", bad)
        with pytest.raises(SystemExit):
            checkout.Settings.from_env()


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_the_mesh_runs_that_many_order_processes(replicas: int, tmp_path: Path) -> None:
    settings = checkout.Settings(16, 10, 2, None, order_replicas=replicas)
    env = checkout.mesh_env(tmp_path, {}, settings)
    assert registry.replicas("order", env) == replicas
    found = registry.addresses("order", env) + registry.metrics_addresses("order", env)
    assert len(set(found)) == 2 * replicas  # every one its own port
    assert registry.replicas("pricing", env) == 1
    from mesh.supervisor import ProcessSpec, with_replicas

    specs = with_replicas([ProcessSpec.service(n) for n in checkout.SERVICES], env)
    order = [s.key for s in specs if s.name == "order"]
    assert order == ["order", *(f"order#{i}" for i in range(1, replicas))]


def test_the_cpu_table_counts_every_replica() -> None:
    def snap(at: float, cpu: dict[int, float], loadgen: float) -> checkout.CpuSnapshot:
        groups = {1: "order", 2: "order#1", 3: "pricing", 4: "order"}
        return checkout.CpuSnapshot(at, cpu, groups, loadgen, 0.0, at, 2 * at)

    a = snap(0.0, {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}, 0.0)
    b = snap(10.0, {1: 5.0, 2: 4.0, 3: 2.0, 4: 1.0}, 1.0)
    report = checkout.cpu_report(a, b)
    by = report["cores_by_process"]
    assert (by["order"], by["order#1"], by["pricing"]) == (0.6, 0.4, 0.2)
    assert report["replicas_summed"] == {"order": 1.0}


def test_the_smtp_sink_is_the_outside_world_not_the_mesh() -> None:
    # The SMTP sink stands in for the mail provider, as the fake Razorpay does for
    # Razorpay: its CPU is the bench's, never counted in the mesh's CPU per order.
    assert checkout.process_group("smtp") == "bench: SMTP sink"
    assert checkout.process_group("order#1") == "order#1"
    by = {"order": 0.7, "bench: SMTP sink": 0.1, "bench: fake Razorpay": 0.05, "edge": 0.1}
    assert checkout.mesh_cores(by) == pytest.approx(0.8)
