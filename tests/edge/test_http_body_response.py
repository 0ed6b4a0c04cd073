"""A google.api.HttpBody response is answered raw, as grpc-gateway's HTTPBodyMarshaler does.

The RPC's response message itself, or the HttpBody field its `response_body` names:
the HTTP body is `data` byte for byte, the Content-Type is `content_type` (empty or
unprintable: application/octet-stream), with `X-Content-Type-Options: nosniff`.
An HttpBody inside a JSON response stays JSON (base64 `data`), and errors stay JSON.

The test service is compiled here (not in tests/protos) from a small proto of its own.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.message_factory import GetMessageClass
from grpc_tools import protoc

from edge.app import EdgeApp, create_app
from edge.config import EdgeConfig
from edge.transcode import build_pool
from mesh import registry
from tests.support.protos import PROTO, THIRD
from tests.support.rpc import TestKeys

PACKAGE = "testing.rawbody.v1"
SERVICE = f"{PACKAGE}.FileTestService"
PDF = b"%PDF-1.4\n\x00\x01\xfe\xff binary, not UTF-8 \xe2\x82\n%%EOF\n"

TEST_PROTO = """
syntax = "proto3";

package testing.rawbody.v1;

import "cleanse/common/v1/access.proto";
import "google/api/annotations.proto";
import "google/api/httpbody.proto";

service FileTestService {
  // The response IS the HttpBody.
  rpc DownloadFile(GetFileRequest) returns (google.api.HttpBody) {
    option (google.api.http) = {get: "/v1/{name=files/*}:download"};
    option (cleanse.common.v1.access) = {audience: AUDIENCE_CUSTOMER};
  }
  // response_body names an HttpBody field.
  rpc GetFileBody(GetFileRequest) returns (FileEnvelope) {
    option (google.api.http) = {
      get: "/v1/{name=files/*}:body"
      response_body: "file"
    };
    option (cleanse.common.v1.access) = {audience: AUDIENCE_PUBLIC};
  }
  // An HttpBody inside an ordinary JSON response.
  rpc GetFile(GetFileRequest) returns (FileEnvelope) {
    option (google.api.http) = {get: "/v1/{name=files/*}"};
    option (cleanse.common.v1.access) = {audience: AUDIENCE_PUBLIC};
  }
}

message GetFileRequest {
  string name = 1;
}

message FileEnvelope {
  string name = 1;
  google.api.HttpBody file = 2;
}
"""

# name -> (content_type, data); "files/missing" is NOT_FOUND.
FILES = {
    "files/invoice": ("application/pdf", PDF),
    "files/untyped": ("", b"\x00\x01\x02"),
    "files/crlf": ("text/html\r\nset-cookie: x=1", b"<b>hi</b>"),
    "files/empty": ("text/plain", b""),
}


def _compile() -> descriptor_pb2.FileDescriptorSet:
    folder = Path(tempfile.mkdtemp(prefix="cleanse-rawbody-"))
    (folder / "testing" / "rawbody" / "v1").mkdir(parents=True)
    (folder / "testing" / "rawbody" / "v1" / "files.proto").write_text(TEST_PROTO)
    out = folder / "fds.binpb"
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{folder}",
            f"-I{PROTO}",
            f"-I{THIRD}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            "--include_source_info",
            "testing/rawbody/v1/files.proto",
        ]
    )
    assert rc == 0, "protoc failed"
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(out.read_bytes())
    return fds


@pytest.fixture(scope="module")
def fds() -> descriptor_pb2.FileDescriptorSet:
    return _compile()


@pytest.fixture(scope="module")
async def files_backend(fds: descriptor_pb2.FileDescriptorSet) -> AsyncIterator[str]:
    pool = build_pool(fds)
    svc = pool.FindServiceByName(SERVICE)
    body_cls = GetMessageClass(pool.FindMessageTypeByName("google.api.HttpBody"))
    envelope_cls = GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.FileEnvelope"))

    def handler(method: str):
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if request.name not in FILES:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
            ctype, data = FILES[request.name]
            body = body_cls(content_type=ctype, data=data)
            if method == "DownloadFile":
                return body
            return envelope_cls(name=request.name, file=body)

        return handle

    handlers = {}
    for m in svc.methods:
        handlers[m.name] = grpc.unary_unary_rpc_method_handler(
            handler(m.name),
            request_deserializer=GetMessageClass(m.input_type).FromString,
            response_serializer=GetMessageClass(m.output_type).SerializeToString,
        )
    server = grpc.aio.server()
    port = server.add_insecure_port(f"{registry.DEFAULT_HOST}:0")
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    await server.start()
    yield f"{registry.DEFAULT_HOST}:{port}"
    await server.stop(None)


@pytest.fixture(scope="module")
def keys() -> TestKeys:
    return TestKeys.generate("raw-key")


@pytest.fixture(scope="module")
async def raw_app(
    fds: descriptor_pb2.FileDescriptorSet, files_backend: str, keys: TestKeys
) -> AsyncIterator[EdgeApp]:
    app = create_app(
        descriptor_set=fds,
        jwks_source=keys.source,
        backends={PACKAGE: files_backend},
        config=EdgeConfig(timeout_seconds=10.0, max_body_bytes=4096),
        interceptors=(),
        packages_prefix="testing.rawbody.",
    )
    yield app
    await app.aclose()


@pytest.fixture(scope="module")
async def http(raw_app: EdgeApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=raw_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as c:
        yield c


def _bearer(keys: TestKeys) -> dict[str, str]:
    return {"authorization": f"Bearer {keys.mint('customer', sub='users/u1')}"}


async def test_http_body_response_is_the_raw_bytes_with_its_content_type(
    http: httpx.AsyncClient, keys: TestKeys
) -> None:
    r = await http.get("/v1/files/invoice:download", headers=_bearer(keys))
    assert r.status_code == 200, r.text
    assert r.content == PDF  # byte for byte: not JSON, not base64
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-length"] == str(len(PDF))
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-request-id"]


async def test_response_body_naming_an_http_body_field_is_raw_too(
    http: httpx.AsyncClient,
) -> None:
    r = await http.get("/v1/files/invoice:body")
    assert r.status_code == 200, r.text
    assert (r.content, r.headers["content-type"]) == (PDF, "application/pdf")


async def test_an_http_body_inside_a_json_response_stays_json(http: httpx.AsyncClient) -> None:
    r = await http.get("/v1/files/invoice")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    doc = orjson.loads(r.content)
    assert doc["name"] == "files/invoice"
    assert base64.b64decode(doc["file"]["data"]) == PDF
    assert doc["file"]["contentType"] == "application/pdf"


@pytest.mark.parametrize(
    ("name", "ctype", "data"),
    [
        ("files/untyped", "application/octet-stream", b"\x00\x01\x02"),
        ("files/crlf", "application/octet-stream", b"<b>hi</b>"),
        ("files/empty", "text/plain", b""),
    ],
    ids=["no-content-type", "unprintable-content-type", "empty-body"],
)
async def test_content_type_falls_back_to_octet_stream(
    http: httpx.AsyncClient, keys: TestKeys, name: str, ctype: str, data: bytes
) -> None:
    r = await http.get(f"/v1/{name}:download", headers=_bearer(keys))
    assert r.status_code == 200, r.text
    assert (r.content, r.headers["content-type"]) == (data, ctype)
    assert "set-cookie" not in r.headers


async def test_errors_of_a_raw_route_stay_json(http: httpx.AsyncClient, keys: TestKeys) -> None:
    r = await http.get("/v1/files/missing:download", headers=_bearer(keys))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert orjson.loads(r.content)["code"] == grpc.StatusCode.NOT_FOUND.value[0]
    # The access policy still comes first: no token on a customer RPC.
    r = await http.get("/v1/files/invoice:download")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/json"
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_openapi_documents_the_raw_response(http: httpx.AsyncClient) -> None:
    doc = orjson.loads((await http.get("/openapi.json")).content)
    ok = doc["paths"]["/v1/files/{name}:download"]["get"]["responses"]["200"]
    assert ok["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    body = doc["paths"]["/v1/files/{name}:body"]["get"]["responses"]["200"]
    assert "*/*" in body["content"]
    plain = doc["paths"]["/v1/files/{name}"]["get"]["responses"]["200"]
    assert "application/json" in plain["content"]
