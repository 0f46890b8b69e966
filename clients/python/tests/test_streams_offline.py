"""Export and import against a scripted transport (no server): the export's checkpoint protocol
(resume after a break from the last checkpoint, no memory twice, an end without the final
checkpoint is a break, a bounded number of resumes) and the import's splitting, line numbering
and progress. Waiting is recorded, not done."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import httpx
import pytest

import memory_api.async_client
import memory_api.client
from memory_api import (
    AsyncMemoryClient,
    ExportInterrupted,
    ImportInterrupted,
    ImportProgress,
    MemoryClient,
    NewMemory,
    NotFound,
    ServerError,
)


def memory(i: int) -> Dict[str, Any]:
    return {
        "id": f"m{i}",
        "content": f"memory {i}",
        "metadata": {"i": i},
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "expires_at": None,
    }


def lines(*values: Any) -> bytes:
    return b"".join(json.dumps(v).encode() + b"\n" for v in values)


class Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends `data` and then loses the connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


Body = Union[bytes, Broken]


class Streams:
    """Answers each request with the next body (200, NDJSON) and records the requests."""

    def __init__(self, *bodies: Body) -> None:
        self.bodies = list(bodies)
        self.requests: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self.bodies[min(len(self.requests), len(self.bodies)) - 1]
        headers = {"content-type": "application/x-ndjson"}
        if isinstance(body, Broken):
            return httpx.Response(200, headers=headers, stream=body)
        return httpx.Response(200, headers=headers, content=body)

    def cursors(self) -> List[Optional[str]]:
        return [r.url.params.get("cursor") for r in self.requests]


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    recorded: List[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(memory_api.client, "_sleep", recorded.append)
    monkeypatch.setattr(memory_api.async_client, "_sleep", async_sleep)
    return recorded


def client(streams: Streams) -> MemoryClient:
    return MemoryClient("http://api.test", "tok", transport=httpx.MockTransport(streams))


def test_a_complete_export_in_one_stream(waits: List[float]) -> None:
    streams = Streams(lines(memory(1), memory(2), {"next_cursor": "2", "exported": 2}, memory(3), {"next_cursor": None, "exported": 3}))
    got = list(client(streams).export_memories("c/1", filter={"metadata": {"i": {"$gte": 1}}}))
    assert [m.id for m in got] == ["m1", "m2", "m3"]
    assert got[0].metadata == {"i": 1} and got[0].expires_at is None
    request = streams.requests[0]
    assert request.url.path == "/v1/collections/c%2F1/export" or request.url.raw_path.startswith(b"/v1/collections/c%2F1/export")
    assert json.loads(request.url.params["filter"]) == {"metadata": {"i": {"$gte": 1}}}
    assert "cursor" not in request.url.params
    assert waits == []


def test_a_broken_export_resumes_from_the_last_checkpoint_without_repeats(waits: List[float]) -> None:
    streams = Streams(
        # page 1 whole, then m3 and part of a line before the connection drops
        Broken(lines(memory(1), memory(2), {"next_cursor": "c2", "exported": 2}, memory(3)) + b'{"id":"m4","con'),
        # an error line: the store went away
        lines(memory(3), memory(4), {"error": {"type": "/problems/x", "title": "x", "status": 503, "detail": "gone", "code": "dependency_unavailable", "retry_after": 5}}),
        # an end without the final checkpoint
        lines(memory(3), memory(4), memory(5)),
        lines(memory(3), memory(4), memory(5), {"next_cursor": "c5", "exported": 3}, memory(6), {"next_cursor": None, "exported": 4}),
    )
    got = [m.id for m in client(streams).export_memories("c", filter={"metadata": {"k": 1}})]
    assert got == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert streams.cursors() == [None, "c2", "c2", "c2"]
    # every resume keeps the filter
    assert all(json.loads(r.url.params["filter"]) == {"metadata": {"k": 1}} for r in streams.requests)
    # the error line's retry_after, else the policy's backoff
    assert waits == [0.5, 5.0, 2.0]


def test_an_export_gives_up_after_max_resumes_in_a_row(waits: List[float]) -> None:
    # from c1 on, the server sends m2 again each time and then breaks off
    streams = Streams(lines(memory(1), {"next_cursor": "c1", "exported": 1}, memory(2)), lines(memory(2)))
    seen: List[str] = []
    with pytest.raises(ExportInterrupted) as caught:
        for m in client(streams).export_memories("c", max_resumes=2):
            seen.append(m.id)
    assert seen == ["m1", "m2"]
    assert caught.value.cursor == "c1"
    assert "final checkpoint" in str(caught.value.error)
    assert len(streams.requests) == 3
    # a resume that reaches a new checkpoint is not a failure
    streams = Streams(
        lines(memory(1), {"next_cursor": "c1", "exported": 1}),
        lines(memory(2), {"next_cursor": "c2", "exported": 1}),
        lines(memory(3), {"next_cursor": None, "exported": 1}),
    )
    assert [m.id for m in client(streams).export_memories("c", max_resumes=1)] == ["m1", "m2", "m3"]
    assert streams.cursors() == [None, "c1", "c2"]


def test_errors_before_the_stream_are_raised_as_they_are(waits: List[float]) -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        problem = {"type": "/problems/not_found", "title": "Not found", "status": 404, "detail": "collection", "code": "not_found"}
        return httpx.Response(404, headers={"content-type": "application/problem+json"}, json=problem)

    with pytest.raises(NotFound):
        list(MemoryClient("http://api.test", "tok", transport=httpx.MockTransport(not_found)).export_memories("c"))
    assert waits == []


def test_an_import_is_split_under_the_byte_limit_and_numbered_across_requests(waits: List[float]) -> None:
    sent: List[List[Dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/x-ndjson"
        items = [json.loads(line) for line in request.content.decode().splitlines()]
        sent.append(items)
        bad = [i + 1 for i, item in enumerate(items) if item.get("content") == ""]
        errors = [{"line": n, "field": "content", "detail": f"line {n}: content: too short"} for n in bad]
        good = len(items) - len(bad)
        body = lines(
            {"line": len(items), "imported": good, "failed": len(bad)},
            {"done": True, "lines": len(items), "skipped": 0, "imported": good, "failed": len(bad), "errors": errors},
        )
        return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, content=body)

    memories: List[Any] = [NewMemory(f"note {i}", id=f"n{i}") for i in range(10)]
    memories[3] = {"content": "", "id": "bad-3"}
    memories[8] = {"content": "", "id": "bad-8"}
    line_size = len(json.dumps({"content": "note 0", "id": "n0"}, separators=(",", ":"))) + 1
    progress: List[ImportProgress] = []
    api = MemoryClient("http://api.test", "tok", transport=httpx.MockTransport(answer))
    summary = api.import_memories("c", memories, max_body_bytes=line_size * 4, on_progress=progress.append)
    assert [len(items) for items in sent] == [4, 4, 2]
    assert [item["id"] for items in sent for item in items] == [m.id if isinstance(m, NewMemory) else m["id"] for m in memories]
    assert (summary.imported, summary.failed, summary.lines, summary.requests) == (8, 2, 10, 3)
    assert [(e.line, e.field, e.detail) for e in summary.errors] == [
        (4, "content", "line 4: content: too short"),
        (9, "content", "line 9: content: too short"),
    ]
    assert progress == [ImportProgress(3, 1), ImportProgress(7, 1), ImportProgress(8, 2)]
    with pytest.raises(ValueError):
        api.import_memories("c", [NewMemory("x" * 100)], max_body_bytes=50)


def test_an_import_that_stops_says_where_to_resume(waits: List[float]) -> None:
    first = lines({"line": 2, "imported": 2, "failed": 0}, {"done": True, "lines": 2, "skipped": 0, "imported": 2, "failed": 0, "errors": []})
    stopped = lines(
        {"error": {"type": "/problems/x", "title": "x", "status": 503, "detail": "store gone", "code": "dependency_unavailable"}, "resume_at_line": 1, "imported": 0, "failed": 0}
    )
    streams = Streams(first, stopped)
    line_size = len(json.dumps({"content": "note 0", "id": "n0"}, separators=(",", ":"))) + 1
    with pytest.raises(ImportInterrupted) as caught:
        client(streams).import_memories("c", [NewMemory(f"note {i}", id=f"n{i}") for i in range(4)], max_body_bytes=line_size * 2)
    assert (caught.value.resume_at_line, caught.value.imported) == (3, 2)
    assert isinstance(caught.value.error, ServerError)
    # an answer broken off after a progress line
    streams = Streams(Broken(lines({"line": 100, "imported": 100, "failed": 0})))
    with pytest.raises(ImportInterrupted) as caught:
        client(streams).import_memories("c", [NewMemory(f"n{i}", id=f"n{i}") for i in range(150)])
    assert (caught.value.resume_at_line, caught.value.imported) == (101, 100)


def test_async_export_and_import_alike(waits: List[float]) -> None:
    async def scenario() -> None:
        streams = Streams(
            Broken(lines(memory(1), {"next_cursor": "c1", "exported": 1}, memory(2))),
            lines(memory(2), memory(3), {"next_cursor": None, "exported": 2}),
        )
        async with AsyncMemoryClient("http://api.test", "tok", transport=httpx.MockTransport(streams)) as api:
            assert [m.id async for m in api.export_memories("c")] == ["m1", "m2", "m3"]
        assert streams.cursors() == [None, "c1"]

        done = lines({"done": True, "lines": 2, "skipped": 0, "imported": 2, "failed": 0, "errors": []})
        imports = Streams(done)

        async def items():  # type: ignore[no-untyped-def]
            for i in range(2):
                yield NewMemory(f"n{i}")

        async with AsyncMemoryClient("http://api.test", "tok", transport=httpx.MockTransport(imports)) as api:
            summary = await api.import_memories("c", items())
        assert summary.imported == 2 and summary.requests == 1
        assert imports.requests[0].content == b'{"content":"n0"}\n{"content":"n1"}\n'

    asyncio.run(scenario())
