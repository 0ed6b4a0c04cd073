"""The real mesh on loopback: auth and the edge as separate processes.

Every address is an ephemeral port handed to the processes through the registry's
environment overrides; the supervisor starts them, waits for health SERVING, and
stops them at the end. Runs once on SQLite and once on PostgreSQL.
tests/integration/stack.py starts any other set of services the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BACKENDS
from tests.integration.stack import Stack, start_stack

# What test_auth_through_edge.py calls it: a Stack of auth + the edge.
Mesh = Stack


@pytest.fixture(scope="module", params=BACKENDS)
async def mesh(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    data_dir = tmp_path_factory.mktemp(f"mesh-{request.param}")
    async with start_stack(request.param, data_dir, ["auth"]) as stack:
        yield stack
