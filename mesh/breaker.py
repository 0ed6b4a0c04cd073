"""A circuit breaker per dependency, driven around coroutines.

pybreaker's state machine (closed -> open -> half-open -> closed, failure counter,
listeners, storage) is used as is; its `call_async` is not (it needs tornado), and
its synchronous `call` holds a lock for the whole guarded call, which would block
the event loop. Instead the mesh client asks `before_call()` before each attempt
and reports the attempt's outcome with `record(code)`:

- closed: calls pass; `fail_max` consecutive system failures open the circuit;
- open: calls fail at once with `CircuitOpenError` (a `mesh.errors.Unavailable`,
  reason DEPENDENCY_UNAVAILABLE) without touching the network, until
  `reset_timeout` has passed;
- half-open: ONE trial call passes (concurrent ones fail fast); success closes the
  circuit, a system failure opens it again.

Only codes that say the dependency is unwell count as failures
(`SYSTEM_FAILURE_CODES`); business answers such as INVALID_ARGUMENT or NOT_FOUND
mean the dependency is working, and count as successes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import grpc
import pybreaker

from mesh.errors import Unavailable

SYSTEM_FAILURE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DATA_LOSS,
    }
)

CLOSED = pybreaker.STATE_CLOSED
OPEN = pybreaker.STATE_OPEN
HALF_OPEN = pybreaker.STATE_HALF_OPEN


class CircuitOpenError(Unavailable):
    """The dependency's circuit is open: the call was refused without being sent."""

    def __init__(self, dependency: str) -> None:
        super().__init__(
            f"{dependency} is unavailable (circuit open)",
            reason="DEPENDENCY_UNAVAILABLE",
            metadata={"dependency": dependency},
        )
        self.dependency = dependency


class AttemptFailed(Exception):
    """What pybreaker is told about a failed attempt (it thinks in exceptions)."""

    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self.code = code


def _is_business_error(exc: BaseException) -> bool:
    return isinstance(exc, AttemptFailed) and exc.code not in SYSTEM_FAILURE_CODES


class AsyncCircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        fail_max: int = 5,
        reset_timeout: float = 10.0,
        listeners: Iterable[pybreaker.CircuitBreakerListener] = (),
    ) -> None:
        self.name = name
        self._cb = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[_is_business_error],
            listeners=list(listeners),
            name=name,
            throw_new_error_on_trip=False,
        )
        self._lock = threading.RLock()
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open"."""
        return self._cb.current_state

    @property
    def fail_counter(self) -> int:
        return self._cb.fail_counter

    @property
    def fail_max(self) -> int:
        return self._cb.fail_max

    @fail_max.setter
    def fail_max(self, value: int) -> None:
        self._cb.fail_max = value

    @property
    def reset_timeout(self) -> float:
        return self._cb.reset_timeout

    @reset_timeout.setter
    def reset_timeout(self, value: float) -> None:
        self._cb.reset_timeout = value

    def add_listener(self, listener: pybreaker.CircuitBreakerListener) -> None:
        self._cb.add_listener(listener)

    def before_call(self) -> None:
        """Let an attempt through, or raise CircuitOpenError without a network call."""
        with self._lock:
            cb = self._cb
            state = cb.state
            if state.name == OPEN:
                opened_at = cb._state_storage.opened_at
                timeout = timedelta(seconds=cb.reset_timeout)
                if opened_at is not None and datetime.now(UTC) < opened_at + timeout:
                    raise CircuitOpenError(self.name)
                cb.half_open()
                state = cb.state
            if state.name == HALF_OPEN:
                if self._trial_in_flight:
                    raise CircuitOpenError(self.name)
                self._trial_in_flight = True

    def record(self, code: grpc.StatusCode) -> None:
        """Report the outcome of an attempt that `before_call` let through."""
        with self._lock:
            self._trial_in_flight = False
            state = self._cb.state
            if code is grpc.StatusCode.OK:
                state._handle_success()
                return
            exc = AttemptFailed(code)
            try:
                # Counts system failures (business errors count as success) and trips
                # the circuit at fail_max; it re-raises `exc` when it trips.
                state._handle_error(exc, reraise=False)
            except AttemptFailed as raised:
                if raised is not exc:
                    raise

    def release(self) -> None:
        """The attempt ended with no verdict (the caller gave up): free the trial slot."""
        with self._lock:
            self._trial_in_flight = False

    def reset(self) -> None:
        """Close the circuit and forget failures (tests, admin tooling)."""
        with self._lock:
            self._trial_in_flight = False
            self._cb.close()
