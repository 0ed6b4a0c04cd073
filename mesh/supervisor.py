"""Start the whole mesh locally: one process per service, then the edge.

    sup = Supervisor()                      # every implemented service + the edge
    await sup.start()                       # returns once each one is SERVING
    ...
    await sup.stop_process("inventory")     # stop one, and keep it stopped (no restart)
    await sup.start_process("inventory")    # start it again; returns once SERVING
    await sup.stop()                        # SIGTERM, wait, SIGKILL after a timeout

A service is implemented when services/<name>/__main__.py exists (the registry
lists them all); it runs as `python -m services.<name>`, the edge as
`python -m edge` once edge/__main__.py exists. Each child gets the parent's
environment plus CLEANSE_INTERNAL_SECRET (generated once into
<data dir>/internal-secret, mode 600), CLEANSE_DATA_DIR, CLEANSE_SERVICE_NAME and
CLEANSE_REPLICA. Its stdout and stderr go to <data dir>/logs/<name>.log. gRPC
services are ready when the standard health service answers SERVING for ""; the
edge when its HTTP port accepts connections. A process that dies is restarted with
exponential backoff (capped), and shown as restarting(n).

A gRPC service with CLEANSE_<NAME>_REPLICAS=N runs as N processes, replica i with
CLEANSE_REPLICA=i on its own registry address: named `order`, `order#1`, ... in the
status lines and in every method taking a name (`stop_process("order#1")`), logging
to logs/order.log, logs/order-1.log, ...; each one is waited for, watched and
restarted on its own. Two supervised listeners on one host:port are refused before
anything starts.

Integration tests pass their own `ProcessSpec`s and an `env` with
`registry.override_env(...)` so everything listens on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from grpc.aio import AioRpcError
from grpc_health.v1 import health_pb2

from mesh import h2grpc, registry
from mesh.identity import INTERNAL_SECRET_ENV

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "CLEANSE_DATA_DIR"
SECRET_FILE = "internal-secret"
ADMIN_CREDENTIALS_FILE = "admin-credentials.txt"
ADMIN_SHOWN_MARKER = ".admin-credentials-shown"
STABLE_AFTER = 30.0  # seconds up before the restart counter's backoff resets


@dataclass(frozen=True)
class ProcessSpec:
    """One process the supervisor runs."""

    name: str  # registry name: where it listens
    argv: tuple[str, ...]
    # "tcp": infrastructure started first (ready when the port accepts);
    # "grpc": a service, ready when its health check says SERVING;
    # "http": the edge, started last (ready when the port accepts).
    kind: str = "grpc"
    replica: int = 0  # which of the service's replicas (CLEANSE_REPLICA)

    @property
    def key(self) -> str:
        """The supervisor's name for this process: order, order#1, ..."""
        return registry.replica_name(self.name, self.replica)

    @property
    def log_name(self) -> str:
        return self.name if self.replica == 0 else f"{self.name}-{self.replica}"

    @classmethod
    def service(cls, name: str) -> ProcessSpec:
        return cls(name, (sys.executable, "-m", f"services.{name}"))

    @classmethod
    def edge(cls) -> ProcessSpec:
        return cls("edge", (sys.executable, "-m", "edge"), kind="http")


# Local stand-ins for infrastructure the mesh talks to, started when the registry
# address has not been pointed elsewhere: registry name -> module.
LOCAL_INFRA = {"smtp": "services.engagement.smtp_sink"}
KIND_ORDER = {"tcp": 0, "grpc": 1, "http": 2}


def discover(root: Path = ROOT, env: Mapping[str, str] | None = None) -> list[ProcessSpec]:
    """Local infrastructure, implemented services in registry order, then the edge."""
    env = os.environ if env is None else env
    specs = [
        ProcessSpec(name, (sys.executable, "-m", module), kind="tcp")
        for name, module in LOCAL_INFRA.items()
        if f"CLEANSE_{name.upper()}_ADDR" not in env
        and (root / (module.replace(".", "/") + ".py")).is_file()
    ]
    specs += [
        ProcessSpec.service(n)
        for n in registry.GRPC_SERVICES
        if (root / "services" / n / "__main__.py").is_file()
    ]
    if (root / "edge" / "__main__.py").is_file():
        specs.append(ProcessSpec.edge())
    return specs


def with_replicas(specs: Sequence[ProcessSpec], env: Mapping[str, str]) -> list[ProcessSpec]:
    """`specs`, each gRPC service followed by its other replicas when the registry says
    it runs several (CLEANSE_<NAME>_REPLICAS); specs naming replicas are kept as given."""
    given = {(s.name, s.replica) for s in specs}
    out: list[ProcessSpec] = []
    for s in specs:
        out.append(s)
        if s.kind != "grpc" or s.replica != 0:
            continue
        for i in range(1, registry.replicas(s.name, env)):
            if (s.name, i) not in given:
                out.append(replace(s, replica=i))
    return out


def _check_listeners(specs: Sequence[ProcessSpec], env: Mapping[str, str]) -> None:
    """Two supervised processes (or a process's gRPC and metrics ports) on one
    host:port: refused, with both named, before anything starts."""
    seen: dict[tuple[str, int], str] = {}
    for s in specs:
        mine = [(s.key, registry.address(s.name, env, s.replica))]
        if s.kind == "grpc":
            metrics = registry.metrics_address(s.name, env, s.replica)
            mine.append((f"{s.key} metrics", metrics))
        for who, addr in mine:
            other = seen.setdefault((addr.host, addr.port), who)
            if other != who:
                raise ValueError(f"address collision: {other} and {who} both on {addr}")


def data_dir_from(env: Mapping[str, str]) -> Path:
    return Path(env.get(DATA_DIR_ENV) or "data").resolve()


def ensure_internal_secret(data_dir: Path) -> str:
    """The mesh's shared secret: generated once, kept in <data dir>/internal-secret (0600)."""
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= 32:
            os.chmod(path, 0o600)
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret


@dataclass
class ManagedProcess:
    spec: ProcessSpec
    log_path: Path
    state: str = "stopped"  # starting | serving | restarting(n) | stopped | failed
    restarts: int = 0
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    serving: asyncio.Event = field(default_factory=asyncio.Event)
    monitor: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    def __init__(
        self,
        services: Sequence[ProcessSpec] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        data_dir: Path | str | None = None,
        cwd: Path = ROOT,
        out: TextIO | None = None,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        base = dict(os.environ)
        base.update(env or {})
        self.data_dir = Path(data_dir).resolve() if data_dir else data_dir_from(base)
        self.env = base
        self.cwd = cwd
        self.out = out if out is not None else sys.stdout
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        specs = with_replicas(list(services) if services is not None else discover(cwd), base)
        # Infrastructure first, then services, the edge (http) last.
        specs.sort(key=lambda s: KIND_ORDER[s.kind])
        _check_listeners(specs, base)
        self.logs_dir = self.data_dir / "logs"
        self.procs: dict[str, ManagedProcess] = {
            s.key: ManagedProcess(s, self.logs_dir / f"{s.log_name}.log") for s in specs
        }
        self._stopping = False
        self.on_serving: list[Callable[[str], None]] = [self._show_admin_credentials]

    # --- public API -------------------------------------------------------------

    async def start(self) -> None:
        """Start every process; return once all are serving (raise on timeout)."""
        self._stopping = False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.env[INTERNAL_SECRET_ENV] = ensure_internal_secret(self.data_dir)
        self.env[DATA_DIR_ENV] = str(self.data_dir)
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        if "engagement" in self.procs and "auth" in self.procs:
            # The whole mesh is up: login codes go out through notifications (SMS),
            # unless the environment chose otherwise.
            self.env.setdefault("CLEANSE_OTP_SENDER", "engagement")
        groups = [[p for p in self.procs.values() if p.spec.kind == kind] for kind in KIND_ORDER]
        for group in groups:
            for p in group:
                await self._spawn(p)
                p.monitor = asyncio.create_task(self._watch(p), name=f"supervise-{p.spec.key}")
            await self._wait_serving(group)

    async def stop(self) -> None:
        """SIGTERM every child (edge first), wait, SIGKILL what is left."""
        self._stopping = True
        for p in self.procs.values():
            if p.monitor is not None:
                p.monitor.cancel()
        order = sorted(self.procs.values(), key=lambda p: -KIND_ORDER[p.spec.kind])
        for p in order:
            if p.process is not None and p.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for p in order:
            if p.process is None:
                continue
            try:
                await asyncio.wait_for(p.process.wait(), max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    p.process.kill()
                await p.process.wait()
            self._set_state(p, "stopped")
        for p in self.procs.values():
            if p.monitor is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await p.monitor
                p.monitor = None

    async def stop_process(self, name: str) -> None:
        """Stop one process (SIGTERM, SIGKILL after `stop_timeout`); it stays stopped.

        The others keep running; `start_process(name)` brings it back.
        """
        p = self.procs[name]
        if p.monitor is not None:
            p.monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await p.monitor
            p.monitor = None
        p.serving.clear()
        if p.process is not None and p.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                p.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(p.process.wait(), self.stop_timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    p.process.kill()
                await p.process.wait()
        self._set_state(p, "stopped")

    async def start_process(self, name: str, within: float | None = None) -> None:
        """Start one stopped process again; return once it is serving (raise on timeout)."""
        p = self.procs[name]
        if p.process is not None and p.process.returncode is None:
            raise RuntimeError(f"{name} is running (pid {p.pid}): stop_process() it first")
        self._stopping = False
        p.restarts = 0
        await self._spawn(p)
        p.monitor = asyncio.create_task(self._watch(p), name=f"supervise-{name}")
        await self._wait_serving([p], within)

    async def wait_serving(self, name: str, within: float | None = None) -> None:
        """Wait until `name` is serving (again, after a restart)."""
        await asyncio.wait_for(self.procs[name].serving.wait(), within or self.ready_timeout)

    def replicas(self, name: str) -> list[str]:
        """The names of `name`'s supervised processes: ["order", "order#1"]."""
        return [k for k, p in self.procs.items() if p.spec.name == name]

    def state(self, name: str) -> str:
        return self.procs[name].state

    def pid(self, name: str) -> int | None:
        return self.procs[name].pid

    def summary(self) -> str:
        lines = ["", "Cleanse Mesh is up:"]
        for p in self.procs.values():
            s = p.spec
            addr = registry.address(s.name, self.env, s.replica)
            if s.kind == "http":
                lines.append(f"  {s.key:<12} {addr.url}  (REST/JSON, /metrics)")
            elif s.kind == "tcp":
                lines.append(f"  {s.key:<12} {addr}  (local {s.name} stand-in)")
            else:
                metrics = registry.metrics_address(s.name, self.env, s.replica)
                lines.append(f"  {s.key:<12} grpc {addr}  metrics {metrics.url}/metrics")
        if "smtp" in self.procs:
            lines.append(f"Mail sent by the mesh: {self.data_dir / 'mail'}/*.eml")
        lines.append(f"Logs: {self.logs_dir}/<service>.log   Data: {self.data_dir}")
        lines.append("Ctrl-C stops everything.")
        return "\n".join(lines)

    # --- internals --------------------------------------------------------------

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _set_state(self, p: ManagedProcess, state: str) -> None:
        if p.state == state:
            return
        p.state = state
        s = p.spec
        addr = registry.address(s.name, self.env, s.replica)
        pid = p.pid if p.pid is not None and state != "stopped" else "-"
        where = f"{addr!s:<22}"
        if s.kind == "grpc":
            where += f" metrics {registry.metrics_address(s.name, self.env, s.replica)!s:<22}"
        self._print(f"{s.key:<12} pid {pid!s:<8} {where} {state}")

    async def _spawn(self, p: ManagedProcess) -> None:
        p.serving.clear()
        env = dict(self.env)
        env["CLEANSE_SERVICE_NAME"] = p.spec.name
        env[registry.REPLICA_ENV] = str(p.spec.replica)
        with open(p.log_path, "ab") as log:  # noqa: ASYNC230 (local file, tiny write)
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting\n".encode())
            log.flush()
            p.process = await asyncio.create_subprocess_exec(
                *p.spec.argv,
                cwd=str(self.cwd),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor only
                preexec_fn=_die_with(os.getpid()),
            )
        p.started_at = time.monotonic()
        self._set_state(p, "starting" if p.restarts == 0 else f"restarting({p.restarts})")

    async def _wait_serving(
        self, group: Sequence[ManagedProcess], within: float | None = None
    ) -> None:
        timeout = within or self.ready_timeout
        pending = {p.spec.key: asyncio.ensure_future(p.serving.wait()) for p in group}
        if not pending:
            return
        _, not_done = await asyncio.wait(pending.values(), timeout=timeout)
        for f in not_done:
            f.cancel()
        if not_done:
            late = [n for n, f in pending.items() if f in not_done]
            raise TimeoutError(
                f"not serving after {timeout:.0f}s: {', '.join(late)} (see {self.logs_dir})"
            )

    async def _watch(self, p: ManagedProcess) -> None:
        """Wait for readiness, then for exit; restart with backoff while not stopping."""
        while not self._stopping:
            assert p.process is not None
            ready = asyncio.create_task(self._until_ready(p))
            exited = asyncio.create_task(p.process.wait())
            await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                await exited
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ready
            if self._stopping:
                return
            p.serving.clear()
            if time.monotonic() - p.started_at > STABLE_AFTER:
                p.restarts = 0
            p.restarts += 1
            self._set_state(p, f"restarting({p.restarts})")
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (p.restarts - 1))
            with open(p.log_path, "ab") as log:  # noqa: ASYNC230 (local file, tiny write)
                log.write(
                    f"--- exited with {p.process.returncode}; restart in {delay:.1f}s\n".encode()
                )
            await asyncio.sleep(delay)
            if self._stopping:
                return
            await self._spawn(p)

    async def _until_ready(self, p: ManagedProcess) -> None:
        while True:
            if await self._probe(p):
                self._set_state(p, "serving")
                p.serving.set()
                for hook in self.on_serving:
                    hook(p.spec.key)
                return
            await asyncio.sleep(0.1)

    async def _probe(self, p: ManagedProcess) -> bool:
        addr = registry.address(p.spec.name, self.env, p.spec.replica)
        if p.spec.kind in ("http", "tcp"):
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(addr.host, addr.port), 1.0
                )
            except (OSError, TimeoutError):
                return False
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return True
        # The lean client (mesh/h2grpc.py), as services call each other: grpcio's core
        # would start its threads in this process, and its event engine thread has
        # been seen to crash the process (SIGSEGV in cygrpc) while the mesh ran.
        ch = h2grpc.Channel(str(addr), connect_timeout=1.0)
        try:
            status = await h2grpc.serving_status(ch, 1.0)
        except AioRpcError:
            return False
        finally:
            await ch.close()
        return status == health_pb2.HealthCheckResponse.SERVING

    def _show_admin_credentials(self, name: str) -> None:
        if name != "auth":
            return
        creds = self.data_dir / ADMIN_CREDENTIALS_FILE
        marker = self.data_dir / ADMIN_SHOWN_MARKER
        if creds.is_file() and not marker.exists():
            self._print(f"seeded admin: {creds.read_text().strip()}")
            self._print(f"(shown once; kept in {creds})")
            marker.touch()


async def run(supervisor: Supervisor) -> int:
    """Start, print the summary, run until SIGINT/SIGTERM, stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not supervisor.procs:
        supervisor._print("nothing to start: no services/<name>/__main__.py yet")
        return 1
    supervisor._print(f"logs: {supervisor.logs_dir}/<service>.log")
    try:
        starting = asyncio.create_task(supervisor.start())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            supervisor._print(supervisor.summary())
            await stopper
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    except TimeoutError as exc:
        supervisor._print(f"error: {exc}")
        await supervisor.stop()
        return 1
    supervisor._print("stopping...")
    await supervisor.stop()
    return 0


def _die_with(supervisor_pid: int) -> Callable[[], None] | None:
    """A child's last step before exec: ask Linux for SIGTERM when the supervisor dies
    (PR_SET_PDEATHSIG), so a supervisor killed outright (SIGKILL, a crash) leaves no
    service behind holding its port. Elsewhere None: children outlive a killed
    supervisor there, as before."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
        if os.getppid() != supervisor_pid:  # it died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    return arm
