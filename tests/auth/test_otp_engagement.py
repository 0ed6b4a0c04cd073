"""Login codes delivered through the engagement service (issue 6).

The auth server (real gRPC) sends codes with EngagementOtpSender to a fake
NotificationInternalService on its own real gRPC server, through mesh.client. When
engagement is down SendLoginOtp fails with UNAVAILABLE and the code is not
reported anywhere as sent (no fallback to the log sender).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from cleanse.auth.v1 import auth_service_pb2
from cleanse.engagement.v1 import notification_internal_service_pb2 as npb
from cleanse.engagement.v1 import notification_internal_service_pb2_grpc as ngrpc
from cleanse.engagement.v1 import resources_pb2 as erpb
from mesh import client
from mesh.db import Database
from mesh.identity import INTERNAL_HEADER, InternalTokens, internal_secret
from services.auth.app import build
from services.auth.config import Settings
from services.auth.otp import EngagementOtpSender, LogOtpSender
from tests.auth.conftest import AuthHarness, unique_ip, unique_phone
from tests.support.rpc import reason


@dataclass
class FakeEngagement(ngrpc.NotificationInternalServiceServicer):
    requests: list[npb.SendOtpRequest] = field(default_factory=list)

    async def SendOtp(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return erpb.Notification(name=f"notifications/{request.request_id}")


@dataclass
class Engagement:
    fake: FakeEngagement
    server: grpc.aio.Server


@pytest.fixture
async def engagement(auth: AuthHarness) -> AsyncIterator[Engagement]:
    """A fake engagement, and the auth server sending codes through it."""
    fake = FakeEngagement()
    server = grpc.aio.server()
    ngrpc.add_NotificationInternalServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_ENGAGEMENT_ADDR", f"127.0.0.1:{port}")
    handlers = auth.wired.auth
    saved = handlers.otp_sender
    handlers.otp_sender = EngagementOtpSender(timeout=2.0)
    client.reset_breakers()
    try:
        yield Engagement(fake, server)
    finally:
        handlers.otp_sender = saved
        await server.stop(0)
        mp.undo()
        client.reset_breakers()


def _ip(ip: str) -> tuple[tuple[str, str], ...]:
    token = InternalTokens("edge", internal_secret()).mint()
    return (("x-forwarded-for", ip), (INTERNAL_HEADER, token))


async def test_code_is_delivered_through_engagement(
    auth: AuthHarness, engagement: Engagement
) -> None:
    phone, ip = unique_phone(), unique_ip()
    sent = await auth.auth.SendLoginOtp(
        auth_service_pb2.SendLoginOtpRequest(phone=phone), metadata=_ip(ip)
    )
    assert sent.expire_time.seconds > 0
    [req] = engagement.fake.requests
    assert req.phone == "+91" + phone
    assert len(req.code) == 6 and req.code.isdigit()
    assert req.request_id.startswith("otp_")
    assert req.expire_time.seconds == sent.expire_time.seconds
    # The code engagement got is the one auth accepts; the log sender wrote nothing.
    assert ("+91" + phone) not in auth.outbox.read_text()
    ok = await auth.auth.VerifyLoginOtp(
        auth_service_pb2.VerifyLoginOtpRequest(phone=phone, code=req.code), metadata=_ip(ip)
    )
    assert ok.tokens.access_token


async def test_each_code_has_its_own_request_id(auth: AuthHarness, engagement: Engagement) -> None:
    sender = EngagementOtpSender(timeout=2.0)
    from mesh.db import utcnow

    await sender.send("+919800000001", "123456", utcnow())
    await sender.send("+919800000001", "654321", utcnow())
    ids = [r.request_id for r in engagement.fake.requests]
    assert len(ids) == 2 and ids[0] != ids[1]


async def test_engagement_down_fails_unavailable_and_sends_nothing(
    auth: AuthHarness, engagement: Engagement
) -> None:
    await engagement.server.stop(0)
    phone, ip = unique_phone(), unique_ip()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.SendLoginOtp(
            auth_service_pb2.SendLoginOtpRequest(phone=phone), metadata=_ip(ip)
        )
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(err.value) == "DEPENDENCY_UNAVAILABLE"
    # No fallback: the code went to no log outbox and no engagement.
    assert ("+91" + phone) not in auth.outbox.read_text()
    assert engagement.fake.requests == []


def test_sender_is_chosen_by_configuration(tmp_path) -> None:
    db = Database("auth", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    default = Settings.from_env({})
    assert default.otp_sender == "log"
    assert isinstance(build(db, default).auth.otp_sender, LogOtpSender)
    chosen = Settings.from_env({"CLEANSE_OTP_SENDER": "engagement"})
    assert isinstance(build(db, chosen).auth.otp_sender, EngagementOtpSender)
    with pytest.raises(RuntimeError, match="CLEANSE_OTP_SENDER"):
        Settings.from_env({"CLEANSE_OTP_SENDER": "carrier-pigeon"})
