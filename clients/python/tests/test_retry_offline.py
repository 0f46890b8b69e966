"""Retries and error mapping against a scripted transport (no server): which answers are retried,
how long the client waits, and when it gives up. Waiting is recorded, not done."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest

import memory_api.async_client
import memory_api.client
from memory_api import (
    ApiError,
    ApiTimeoutError,
    AsyncMemoryClient,
    MemoryClient,
    NewMemory,
    RateLimited,
    RetryEvent,
    RetryPolicy,
    ServerError,
    Unavailable,
)

Reply = Tuple[int, Dict[str, str], Any]


class Script:
    """Answers requests with the given replies in turn (the last one repeats) and records them."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, headers, body = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(body, (dict, list)):
            return httpx.Response(status, headers={"content-type": "application/problem+json", **headers}, content=json.dumps(body))
        return httpx.Response(status, headers=headers, content=body or b"")


def problem(status: int, code: str) -> Dict[str, Any]:
    return {"type": f"/problems/{code}", "title": code, "status": status, "detail": f"{code} detail", "code": code}


LIMITED: Reply = (429, {"retry-after": "7", "ratelimit-limit": "100", "ratelimit-remaining": "0", "ratelimit-reset": "7"}, problem(429, "rate_limited"))
BUSY: Reply = (503, {"retry-after": "2"}, problem(503, "overloaded"))
COLLECTIONS: Reply = (200, {}, {"collections": []})
ADDED: Reply = (201, {}, {"ids": ["a"]})


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    recorded: List[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(memory_api.client, "_sleep", recorded.append)
    monkeypatch.setattr(memory_api.async_client, "_sleep", async_sleep)
    return recorded


def client(script: Script, retry: Optional[RetryPolicy] = None, events: Optional[List[RetryEvent]] = None) -> MemoryClient:
    return MemoryClient("http://api.test", "tok", retry=retry, transport=httpx.MockTransport(script), on_retry=events.append if events is not None else None)


def test_429_waits_retry_after_then_answers(waits: List[float]) -> None:
    script = Script(LIMITED, LIMITED, COLLECTIONS)
    events: List[RetryEvent] = []
    assert client(script, events=events).list_collections() == []
    assert waits == [7.0, 7.0]
    assert len(script.requests) == 3
    assert [e.attempt for e in events] == [1, 2]
    assert all(r.headers["authorization"] == "Bearer tok" for r in script.requests)


def test_attempts_are_bounded_and_the_last_error_is_raised(waits: List[float]) -> None:
    script = Script(LIMITED)
    with pytest.raises(RateLimited) as caught:
        client(script, RetryPolicy(max_attempts=4)).list_collections()
    assert len(script.requests) == 4
    assert waits == [7.0, 7.0, 7.0]
    error = caught.value
    assert (error.retry_after, error.limit, error.remaining, error.reset) == (7.0, 100, 0, 7)


def test_the_total_wait_is_bounded(waits: List[float]) -> None:
    script = Script(LIMITED)
    with pytest.raises(RateLimited):
        client(script, RetryPolicy(max_attempts=10, max_total_wait=20)).list_collections()
    assert waits == [7.0, 7.0]  # a third wait would make 21 s


def test_503_without_retry_after_backs_off_exponentially(waits: List[float]) -> None:
    script = Script((503, {}, problem(503, "dependency_unavailable")))
    with pytest.raises(Unavailable) as caught:
        client(script, RetryPolicy(max_attempts=5, backoff=0.25, max_backoff=0.6)).list_collections()
    assert waits == [0.25, 0.5, 0.6, 0.6]
    assert caught.value.retry_after is None


def test_retry_after_as_an_http_date(waits: List[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    script = Script((503, {"retry-after": when}, problem(503, "overloaded")), COLLECTIONS)
    client(script).list_collections()
    assert len(waits) == 1 and 25 <= waits[0] <= 31


def test_creating_and_adding_are_retried_after_a_503_with_one_idempotency_key(waits: List[float]) -> None:
    # no ids: only the key keeps a second try from storing the memory twice
    script = Script(BUSY, ADDED)
    assert client(script).add_memories("c", ["no id"]) == ["a"]
    keys = [r.headers["idempotency-key"] for r in script.requests]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
    # a new logical call, a new key
    again = Script(ADDED)
    client(again).add_memories("c", ["no id"])
    assert again.requests[0].headers["idempotency-key"] != keys[0]
    # the caller's own key is sent as given, on every try
    script = Script(BUSY, (201, {}, {"id": "c1", "name": "notes", "description": None, "created_at": "2026-01-01T00:00:00Z"}))
    assert client(script).create_collection("notes", idempotency_key="my-key-1").id == "c1"
    assert [r.headers["idempotency-key"] for r in script.requests] == ["my-key-1"] * 2
    assert waits == [2.0, 2.0]
    with pytest.raises(ValueError):
        client(Script(ADDED)).add_memories("c", ["x"], idempotency_key="has space")


def test_a_409_while_the_keyed_first_try_runs_is_waited_out(waits: List[float]) -> None:
    running: Reply = (409, {"retry-after": "1"}, problem(409, "conflict"))
    script = Script(BUSY, running, ADDED)
    assert client(script).add_memories("c", ["x"]) == ["a"]
    assert waits == [2.0, 1.0]
    # a 409 without Retry-After (the key bound to another request) is raised at once
    script = Script((409, {}, problem(409, "conflict")))
    with pytest.raises(ApiError):
        client(script).add_memories("c", ["x"])
    assert len(script.requests) == 1


def test_unsafe_writes_are_not_retried_after_a_503(waits: List[float]) -> None:
    # a bulk delete by filter would delete the next `limit` matches
    deleted: Reply = (200, {}, {"dry_run": False, "matched": 1, "deleted": 1, "ids": ["a"], "has_more": False})
    script = Script(BUSY, deleted)
    with pytest.raises(Unavailable):
        client(script).delete_memories("c", filter={"metadata": {"k": 1}})
    assert len(script.requests) == 1 and waits == []
    # by ids it is retried: a repeat deletes nothing more
    assert client(Script(BUSY, deleted)).delete_memories("c", ids=["a"]).deleted == 1
    assert waits == [2.0]


def test_adding_memories_with_ids_is_retried_after_a_503(waits: List[float]) -> None:
    script = Script(BUSY, ADDED)
    assert client(script).add_memories("c", [NewMemory("x", id="a")]) == ["a"]
    assert waits == [2.0]
    assert [json.loads(r.content) for r in script.requests] == [{"memories": [{"content": "x", "id": "a"}]}] * 2


def test_the_caller_may_allow_unsafe_retries(waits: List[float]) -> None:
    script = Script(BUSY, (200, {}, {"dry_run": False, "matched": 0, "deleted": 0, "ids": [], "has_more": False}))
    assert client(script, RetryPolicy(retry_unsafe=True)).delete_memories("c", all=True).deleted == 0
    assert waits == [2.0]


def test_a_429_is_retried_even_for_unsafe_writes(waits: List[float]) -> None:
    # refused before any work is done: nothing can be stored twice
    script = Script(LIMITED, ADDED)
    assert client(script).add_memories("c", ["x"]) == ["a"]
    assert waits == [7.0]


def test_other_errors_are_never_retried(waits: List[float]) -> None:
    for status in (400, 401, 403, 404, 409, 413, 422, 500, 502):
        script = Script((status, {"retry-after": "1"}, problem(status, "x")))
        with pytest.raises(ApiError) as caught:
            client(script).list_collections()
        assert caught.value.status == status
        assert len(script.requests) == 1
    assert waits == []


def test_an_answer_that_is_not_problem_json(waits: List[float]) -> None:
    script = Script((502, {"content-type": "text/html"}, b"<html>Bad Gateway</html>"))
    with pytest.raises(ServerError) as caught:
        client(script).list_collections()
    assert caught.value.status == 502
    assert "Bad Gateway" in caught.value.detail
    assert caught.value.code == ""


def test_a_timeout_is_an_api_timeout_error() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ApiTimeoutError):
        MemoryClient("http://api.test", "t", transport=httpx.MockTransport(hang)).list_collections()


def test_timeout_is_passed_to_every_request() -> None:
    seen: List[Any] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"collections": []})

    MemoryClient("http://api.test", "t", timeout=1.5, transport=httpx.MockTransport(record)).list_collections()
    assert seen == [{"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}]


def test_the_request_each_method_sends() -> None:
    script = Script((200, {}, {"results": [], "search_type": "hybrid", "top_k": 3, "cached": False, "reranked": False, "took_ms": 1}))
    client(script).search(
        "c1",
        "q",
        top_k=3,
        search_type="hybrid",
        filters={"metadata": {"kind": {"$in": ["a"]}}},
        rerank=False,
        created_after="2026-01-01",
    )
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/search")
    assert json.loads(request.content) == {
        "query": "q",
        "collection_id": "c1",
        "top_k": 3,
        "search_type": "hybrid",
        "filters": {"metadata": {"kind": {"$in": ["a"]}}, "created_after": "2026-01-01"},
        "rerank": False,
    }
    script = Script((200, {}, {"entities": [], "next_cursor": None}))
    client(script).list_entities("c/1", q="pri", limit=5)
    assert script.requests[0].url.raw_path == b"/v1/collections/c%2F1/entities?q=pri&limit=5"


def test_async_client_retries_alike(waits: List[float]) -> None:
    async def scenario() -> None:
        script = Script(LIMITED, BUSY, COLLECTIONS)
        async with AsyncMemoryClient("http://api.test", "tok", transport=httpx.MockTransport(script)) as api:
            assert await api.list_collections() == []
        assert waits == [7.0, 2.0]
        keyed = Script(BUSY, ADDED)
        async with AsyncMemoryClient("http://api.test", "tok", transport=httpx.MockTransport(keyed)) as api:
            assert await api.add_memories("c", ["x"]) == ["a"]
        assert len({r.headers["idempotency-key"] for r in keyed.requests}) == 1 and len(keyed.requests) == 2
        unsafe = Script(BUSY, ADDED)
        async with AsyncMemoryClient("http://api.test", "tok", transport=httpx.MockTransport(unsafe)) as api:
            with pytest.raises(Unavailable):
                await api.delete_memories("c", all=True)
        assert len(unsafe.requests) == 1

    asyncio.run(scenario())


def test_policy_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_total_wait=-1)
