"""The API load generator: its triage bodies are varied and accepted, and both clients drive the schedules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.api_load import (
    Endpoint,
    HttpRequest,
    HttpxClients,
    RawClients,
    TransportError,
    UnsupportedResponse,
    _closed,
    _ok,
    _paced,
    triage_bodies,
)
from medspeak.api.routes.triage import TriageIn
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.plausibility import check_inputs

Login = Callable[[str], dict[str, str]]


def test_triage_bodies_are_varied_plausible_and_the_same_every_run() -> None:
    bodies = triage_bodies()
    assert bodies == triage_bodies() and len(bodies) == 500
    assert len({str(sorted(b.items())) for b in bodies}) == 500  # no body sent twice in a cycle
    assert len({b.get("chief_complaint") for b in bodies}) >= 40
    missing = sum(12 - len(b) + ("systolic_bp" in b) for b in bodies) / (12 * len(bodies))
    assert 0.05 < missing < 0.15  # now and then a blank field, as at the desk
    for body in bodies:
        form = TriageIn.model_validate(body).model_dump(exclude={"patient_id", "encounter_id"}, exclude_none=True)
        assert form == body  # no field the API would drop
        assert check_inputs(TriageInputs.from_form(form)) == [], body


def test_the_api_assesses_the_triage_bodies(client: TestClient, login: Login) -> None:
    headers = login("clinician")
    for body in triage_bodies()[::25]:
        r = client.post("/triage", headers=headers, json=body)
        assert r.status_code == 200, (body, r.text)


# A tiny HTTP/1.1 server: /ok answers 200 in two writes, /missing 404, /chunked a chunked body, /close
# answers and then closes the connection (without saying so), /drop closes it without answering.
@asynccontextmanager
async def _server(seen: list[str], connections: list[int]) -> AsyncIterator[int]:
    handlers: list[asyncio.Task[Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]  # a handler runs in a task
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")
                length = next((int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")), 0)
                body = await reader.readexactly(length)
                path = lines[0].split()[1]
                seen.append(path + (f" {body.decode()}" if body else ""))
                if path == "/drop":
                    break
                if path == "/chunked":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                elif path == "/missing":
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhe")
                    await writer.drain()
                    await asyncio.sleep(0.001)
                    writer.write(b"llo")
                await writer.drain()
                if path == "/close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        async with server:
            yield server.sockets[0].getsockname()[1]
    finally:
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await asyncio.sleep(0.01)  # the closed transports' last callbacks


def _request(port: int, path: str, body: bytes = b"") -> HttpRequest:
    return HttpRequest.build(f"127.0.0.1:{port}", "POST" if body else "GET", path, {"X-Test": "1"}, body)


def test_raw_client_keeps_the_connection_reads_exact_bodies_and_reconnects() -> None:
    seen: list[str] = []
    connections: list[int] = []

    async def scenario() -> list[Any]:
        async with _server(seen, connections) as port:
            clients = RawClients("127.0.0.1", port, 1)
            send = clients.connection()
            out: list[Any] = [await send(_request(port, "/ok")), await send(_request(port, "/ok", b'{"a":1}'))]
            out.append(await _ok(send, _request(port, "/missing")))
            out.append(await send(_request(port, "/close")))
            await asyncio.sleep(0.05)  # the close has arrived: the next request reconnects, no error
            out.append(await send(_request(port, "/ok")))
            try:
                await send(_request(port, "/drop"))
            except TransportError:
                out.append("transport error")
            out.append(await send(_request(port, "/ok")))  # a new connection after the error
            with pytest.raises(UnsupportedResponse, match="chunked"):
                await send(_request(port, "/chunked"))
            await clients.aclose()
            return out

    out = asyncio.run(scenario())
    hello = (200, b"hello")
    assert out == [hello, hello, False, hello, hello, "transport error", hello]
    assert seen == ["/ok", '/ok {"a":1}', "/missing", "/close", "/ok", "/drop", "/ok", "/chunked"]
    assert len(connections) == 3  # kept alive until the server's close, then until the drop


@pytest.mark.parametrize("client", [RawClients, HttpxClients])
def test_both_clients_drive_the_closed_and_paced_schedules(client: Any) -> None:
    seen: list[str] = []
    connections: list[int] = []

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], Endpoint]:
        async with _server(seen, connections) as port:
            endpoint = Endpoint([_request(port, f"/ok?n={n}") for n in range(7)])
            closed = await _closed(lambda: client("127.0.0.1", port, 4), endpoint, 4, 0.3, 0.1)
            paced = await _paced(lambda: client("127.0.0.1", port, 4), endpoint, 4, 100.0, 0.4, 0.1)
            return closed, paced, endpoint

    closed, paced, endpoint = asyncio.run(scenario())
    assert closed["errors"] == 0 and closed["requests"] > 20 and closed["p95_ms"] > 0
    assert paced["errors"] == 0 and 35 <= paced["requests"] <= 45 and paced["unsent"] == 0
    assert endpoint.sent == len(seen) and {s.split("=")[1] for s in seen} == {str(n) for n in range(7)}
