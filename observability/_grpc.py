"""Shared plumbing for the observability interceptors: what an RPC is, how it ended.

`ObservingServerInterceptor` wraps every handler kind (unary and streaming) and
calls `begin()` before the handler and `end()` after it with the FINAL status
code, also when an inner interceptor ended the call with `context.abort()` (the
contract interceptor does, for UNAUTHENTICATED or INVALID_ARGUMENT): grpc.aio
raises `AbortError` after recording the code on the context, so we read it back.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc


@dataclass(frozen=True)
class RpcInfo:
    """One RPC as metrics and traces label it."""

    path: str  # "/pkg.Service/Method"
    service: str  # "pkg.Service"
    method: str  # "Method"
    type: str  # "unary" | "client_stream" | "server_stream" | "bidi_stream"

    @classmethod
    def from_path(cls, path: str | bytes, rpc_type: str = "unary") -> RpcInfo:
        if isinstance(path, bytes):
            path = path.decode()
        service, _, method = path.lstrip("/").partition("/")
        return cls(path=path, service=service, method=method, type=rpc_type)


def rpc_type(request_streaming: bool, response_streaming: bool) -> str:
    if request_streaming and response_streaming:
        return "bidi_stream"
    if request_streaming:
        return "client_stream"
    if response_streaming:
        return "server_stream"
    return "unary"


def final_code(context: grpc.aio.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    """The status code the caller receives."""
    if error is None or isinstance(error, grpc.aio.AbortError):
        code = context.code()
        if code is None:
            return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN
        if isinstance(code, int):  # some grpc versions keep the raw integer
            return _CODE_BY_VALUE.get(code, grpc.StatusCode.UNKNOWN)
        return code
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


_CODE_BY_VALUE = {c.value[0]: c for c in grpc.StatusCode}
# RpcInfo by (method path, request_streaming, response_streaming): one per method.
_INFO_CACHE: dict[tuple[Any, bool, bool], RpcInfo] = {}


def code_from_value(value: int) -> grpc.StatusCode:
    return _CODE_BY_VALUE.get(value, grpc.StatusCode.UNKNOWN)


class ObservingServerInterceptor(grpc.aio.ServerInterceptor, abc.ABC):
    """Calls `begin` and `end` around every RPC; subclasses record what they need."""

    @abc.abstractmethod
    def begin(self, info: RpcInfo, context: grpc.aio.ServicerContext) -> Any: ...

    @abc.abstractmethod
    def end(self, state: Any, code: grpc.StatusCode, error: BaseException | None) -> None: ...

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        key = (handler_call_details.method, handler.request_streaming, handler.response_streaming)
        info = _INFO_CACHE.get(key)
        if info is None:
            info = _INFO_CACHE[key] = RpcInfo.from_path(
                handler_call_details.method,
                rpc_type(handler.request_streaming, handler.response_streaming),
            )
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, info),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, info),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, info),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap_stream(handler.stream_stream, info),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap_unary(self, behavior: Callable[..., Any], info: RpcInfo) -> Callable[..., Any]:
        async def wrapper(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
            state = self.begin(info, context)
            error: BaseException | None = None
            try:
                return await behavior(request_or_iterator, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self.end(state, final_code(context, error), error)

        return wrapper

    def _wrap_stream(self, behavior: Callable[..., Any], info: RpcInfo) -> Callable[..., Any]:
        async def wrapper(
            request_or_iterator: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            state = self.begin(info, context)
            error: BaseException | None = None
            try:
                result = behavior(request_or_iterator, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                elif inspect.isawaitable(result):
                    await result  # the handler writes with context.write()
            except BaseException as exc:
                error = exc
                raise
            finally:
                self.end(state, final_code(context, error), error)

        return wrapper


def metadata_pairs(metadata: Any) -> list[tuple[str, str | bytes]]:
    """Client call metadata (None, tuples or grpc.aio.Metadata) as a list of pairs."""
    if not metadata:
        return []
    return [(k, v) for k, v in metadata]


def with_metadata(details: Any, extra: dict[str, str], *, replace: bool = True) -> Any:
    """A copy of ClientCallDetails with `extra` headers set (replacing same keys)."""
    pairs = metadata_pairs(details.metadata)
    present = {k for k, _ in pairs}
    if replace:
        pairs = [(k, v) for k, v in pairs if k not in extra]
        pairs.extend(extra.items())
    else:
        pairs.extend((k, v) for k, v in extra.items() if k not in present)
    return grpc.aio.ClientCallDetails(
        method=details.method,
        timeout=details.timeout,
        metadata=grpc.aio.Metadata(*pairs),
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )
