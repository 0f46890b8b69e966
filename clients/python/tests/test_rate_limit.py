"""429 from the real server: a free user spends the budget; the client waits Retry-After, then succeeds."""

from __future__ import annotations

import asyncio
import os
from typing import Callable, List, Optional, TypeVar

import pytest

from memory_api import NO_RETRY, AsyncMemoryClient, MemoryClient, RateLimited, RetryEvent, RetryPolicy

T = TypeVar("T")


def _spend(client: MemoryClient) -> RateLimited:
    """Calls until the server refuses; returns the 429."""
    budget = int(os.environ.get("MEMORY_API_RATE_LIMIT_FREE", "100"))
    for _ in range(budget + 5):
        try:
            client.list_collections()
        except RateLimited as limited:
            return limited
    pytest.fail(f"no 429 after {budget + 5} requests of a free token")


def _limited_then(base_url: str, token: str, call: Callable[[], T]) -> T:
    """Spends the budget, then makes `call` at once. The budget refills one request every
    60/limit s, so on a slow machine the call may come after the refill: then it is tried again."""
    for _ in range(5):
        with MemoryClient(base_url, token, retry=NO_RETRY) as impatient:
            _spend(impatient)
        result = call()
        if result:
            return result
    pytest.fail("the call never met a spent budget")


def test_429_is_retried_after_retry_after(base_url: str, tokens: "dict[str, str]") -> None:
    with MemoryClient(base_url, tokens["free_limited"], retry=NO_RETRY) as impatient:
        limited = _spend(impatient)
    assert limited.status == 429 and limited.code == "rate_limited"
    assert limited.retry_after is not None and limited.retry_after >= 1
    assert limited.limit == int(os.environ.get("MEMORY_API_RATE_LIMIT_FREE", "100"))
    assert limited.remaining == 0
    assert "retry in" in limited.detail

    # a budget of waiting smaller than Retry-After: raised at once, no wait
    def short_budget() -> Optional[RateLimited]:
        events: List[RetryEvent] = []
        with MemoryClient(base_url, tokens["free_limited"], retry=RetryPolicy(max_total_wait=0.5), on_retry=events.append) as short:
            try:
                short.list_collections()
            except RateLimited as error:
                assert events == []
                return error
        return None

    assert _limited_then(base_url, tokens["free_limited"], short_budget).retry_after

    # the default policy waits what the server asked, then gets the answer
    def patient() -> List[RetryEvent]:
        events: List[RetryEvent] = []
        with MemoryClient(base_url, tokens["free_limited"], on_retry=events.append) as client:
            assert isinstance(client.list_collections(), list)
        return events

    events = _limited_then(base_url, tokens["free_limited"], patient)
    first = events[0]
    assert (first.method, first.path, first.attempt) == ("GET", "/v1/collections", 1)
    assert isinstance(first.error, RateLimited)
    assert first.delay == first.error.retry_after


def test_async_429_is_retried_too(base_url: str, tokens: "dict[str, str]") -> None:
    async def scenario() -> List[RetryEvent]:
        events: List[RetryEvent] = []
        async with AsyncMemoryClient(base_url, tokens["free_limited"], on_retry=events.append) as patient:
            assert isinstance(await patient.list_collections(), list)
        return events

    events = _limited_then(base_url, tokens["free_limited"], lambda: asyncio.run(scenario()))
    assert isinstance(events[0].error, RateLimited)
    assert events[0].delay == events[0].error.retry_after
