"""CLEANSE_GRPC_SERVER picks the gRPC server every service runs (mesh.server.new_server)."""

from __future__ import annotations

import grpc
import pytest

from mesh import h2server
from mesh.server import new_server


def test_the_lean_server_is_the_default() -> None:
    assert h2server.server_from_env({}) == "lean"
    assert h2server.server_from_env({"CLEANSE_GRPC_SERVER": " GRPCIO "}) == "grpcio"


def test_an_unknown_server_is_refused_by_name() -> None:
    with pytest.raises(RuntimeError, match="CLEANSE_GRPC_SERVER='tornado'"):
        h2server.server_from_env({"CLEANSE_GRPC_SERVER": "tornado"})


async def test_new_server_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEANSE_GRPC_SERVER", raising=False)
    lean = new_server()
    assert isinstance(lean, h2server.Server)
    monkeypatch.setenv("CLEANSE_GRPC_SERVER", "grpcio")
    reference = new_server()
    assert isinstance(reference, grpc.aio.Server)
    assert not isinstance(reference, h2server.Server)
    await reference.stop(None)
