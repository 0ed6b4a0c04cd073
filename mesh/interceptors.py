"""The server interceptor that applies each RPC's contract before the servicer runs.

For every call: find the RPC's contract, establish the caller's identity (access
token or internal service token), enforce the declared access policy, check the
request's REQUIRED fields and page size, expose a `CallContext` to the servicer,
and turn exceptions into statuses (`mesh.errors`): a `ServiceError` becomes its
rich status; anything else becomes INTERNAL with a generic message, logged with
its traceback here and never sent to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.api import field_behavior_pb2
from google.protobuf import descriptor
from grpc_interceptor import AsyncServerInterceptor

from mesh import context as call_context
from mesh.contracts import MethodContract
from mesh.errors import InvalidArgument, ServiceError, Unauthenticated, internal_status
from mesh.identity import (
    ANONYMOUS,
    INTERNAL_HEADER,
    Identity,
    InternalTokens,
    TokenVerifier,
    authorize,
    bearer_token,
)

log = logging.getLogger("mesh.server")

REQUEST_ID_HEADER = "x-request-id"
FORWARDED_FOR_HEADER = "x-forwarded-for"


def _required_fields(desc: descriptor.Descriptor) -> list[descriptor.FieldDescriptor]:
    out = []
    for f in desc.fields:
        behaviors = f.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.REQUIRED in behaviors:
            out.append(f)
    return out


_required_cache: dict[str, list[descriptor.FieldDescriptor]] = {}


def _missing_required(message: Any, prefix: str = "", nested: bool = True) -> list[tuple[str, str]]:
    desc = message.DESCRIPTOR
    fields = _required_cache.get(desc.full_name)
    if fields is None:
        fields = _required_cache[desc.full_name] = _required_fields(desc)
    out: list[tuple[str, str]] = []
    for f in fields:
        path = prefix + f.name
        if f.is_repeated:  # protobuf 7 removed FieldDescriptor.label
            if len(getattr(message, f.name)) == 0:
                out.append((path, "is required"))
        elif f.message_type is not None:
            if not message.HasField(f.name):
                out.append((path, "is required"))
            elif nested:
                out.extend(_missing_required(getattr(message, f.name), path + "."))
        elif not getattr(message, f.name):
            out.append((path, "is required"))
    return out


def check_request(contract: MethodContract, request: Any) -> None:
    """REQUIRED fields present; page_size read as AIP-158 says (clamped in place).

    An Update request (one with `update_mask`) is a partial resource: only its
    top-level REQUIRED fields are checked (AIP-134); the service validates the
    fields the mask names.
    """
    fields = request.DESCRIPTOR.fields_by_name
    violations = _missing_required(request, nested="update_mask" not in fields)
    if "page_size" in fields:
        size = request.page_size
        if size < 0:
            violations.append(("page_size", "must not be negative"))
        elif size == 0:
            request.page_size = contract.default_page_size
        elif size > contract.max_page_size:
            request.page_size = contract.max_page_size
    if violations:
        raise InvalidArgument(violations)


class ContractInterceptor(AsyncServerInterceptor):
    def __init__(
        self,
        contracts: Mapping[str, MethodContract],
        verifier: TokenVerifier | Callable[[], TokenVerifier],
        internal: InternalTokens,
    ) -> None:
        self._contracts = contracts
        self._verifier = verifier
        self._internal = internal

    def _token_verifier(self) -> TokenVerifier:
        v = self._verifier
        return v if isinstance(v, TokenVerifier) else v()

    async def _identity(self, md: Mapping[str, str]) -> tuple[Identity, str]:
        """(who the call is for, which mesh service relayed it — "" for outside callers).

        A call from another service (or the edge) carries the mesh's internal token
        and, when made on a user's behalf, that user's access token too: then the
        user is the identity and the relaying service is recorded separately.
        """
        internal = md.get(INTERNAL_HEADER)
        # verify() hands back the Identity it cached with the token: no new one per call.
        service = self._internal.verify(internal) if internal else None
        via = service.subject if service is not None else ""
        token = bearer_token(md.get("authorization"))
        if token is not None:
            return await self._token_verifier().verify(token), via
        if service is not None and via:
            return service, via
        return ANONYMOUS, ""

    async def intercept(
        self, method: Callable, request: Any, context: grpc.aio.ServicerContext, method_name: str
    ) -> Any:
        contract = self._contracts.get(method_name)
        if contract is None:  # health, reflection: not ours
            return await method(request, context)
        md = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        token = None
        try:
            identity, via = await self._identity(md)
            authorize(contract, identity, via_service=via)
            if not contract.client_streaming:  # a stream: the servicer checks each message
                check_request(contract, request)
            # Only a mesh member (the edge) may tell us the client's address; anyone
            # else's x-forwarded-for is ignored, so rate limits per IP can't be dodged.
            forwarded = md.get(FORWARDED_FOR_HEADER, "") if via else ""
            peer_ip = forwarded.split(",")[0].strip()
            token = call_context.set_current(
                call_context.CallContext(
                    identity=identity,
                    caller_service=via,
                    request_id=md.get(REQUEST_ID_HEADER, ""),
                    client_ip=peer_ip or _peer_ip(context.peer()),
                    # gRPC rewrites user-agent; the edge forwards the browser's as x-user-agent.
                    user_agent=md.get("x-user-agent") or md.get("user-agent", ""),
                    authorization=md.get("authorization", ""),
                )
            )
            return await method(request, context)
        except ServiceError as exc:
            status = exc.to_grpc_status()
            trailing = tuple(status.trailing_metadata)
            if isinstance(exc, Unauthenticated):
                trailing += (("www-authenticate", 'Bearer realm="cleanse"'),)
            await context.abort(status.code, status.details, trailing)
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unhandled error in %s", method_name)
            s = internal_status()
            await context.abort(grpc.StatusCode.INTERNAL, s.message)
        finally:
            if token is not None:
                call_context.reset(token)


def _peer_ip(peer: str | None) -> str:
    # "ipv4:127.0.0.1:5555" or "ipv6:[::1]:5555"
    if not peer:
        return ""
    _, _, rest = peer.partition(":")
    host, _, _ = rest.rpartition(":")
    return host.strip("[]")
