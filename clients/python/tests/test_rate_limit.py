"""429 from the real server: a free user spends the budget; the client waits Retry-After, then succeeds."""

from __future__ import annotations

import asyncio
import os
from typing import List

import pytest

from memory_api import NO_RETRY, AsyncMemoryClient, MemoryClient, RateLimited, RetryEvent, RetryPolicy


def _spend(client: MemoryClient) -> RateLimited:
    """Calls until the server refuses; returns the 429."""
    budget = int(os.environ.get("MEMORY_API_RATE_LIMIT_FREE", "100"))
    for _ in range(budget + 5):
        try:
            client.list_collections()
        except RateLimited as limited:
            return limited
    pytest.fail(f"no 429 after {budget + 5} requests of a free token")


def test_429_is_retried_after_retry_after(base_url: str, tokens: "dict[str, str]") -> None:
    with MemoryClient(base_url, tokens["free_limited"], retry=NO_RETRY) as impatient:
        limited = _spend(impatient)
    assert limited.status == 429 and limited.code == "rate_limited"
    assert limited.retry_after is not None and limited.retry_after >= 1
    assert limited.limit == int(os.environ.get("MEMORY_API_RATE_LIMIT_FREE", "100"))
    assert limited.remaining == 0
    assert "retry in" in limited.detail

    # a budget of waiting smaller than Retry-After: raised at once, no wait
    events: List[RetryEvent] = []
    with MemoryClient(base_url, tokens["free_limited"], retry=RetryPolicy(max_total_wait=0.5), on_retry=events.append) as short:
        with pytest.raises(RateLimited):
            short.list_collections()
    assert events == []

    # the default policy waits what the server asked, then gets the answer
    with MemoryClient(base_url, tokens["free_limited"], on_retry=events.append) as patient:
        assert isinstance(patient.list_collections(), list)
    assert len(events) >= 1
    first = events[0]
    assert (first.method, first.path, first.attempt) == ("GET", "/v1/collections", 1)
    assert isinstance(first.error, RateLimited)
    assert first.delay == first.error.retry_after


def test_async_429_is_retried_too(base_url: str, tokens: "dict[str, str]") -> None:
    with MemoryClient(base_url, tokens["free_limited"], retry=NO_RETRY) as impatient:
        _spend(impatient)

    async def scenario() -> List[RetryEvent]:
        events: List[RetryEvent] = []
        async with AsyncMemoryClient(base_url, tokens["free_limited"], on_retry=events.append) as patient:
            assert isinstance(await patient.list_collections(), list)
        return events

    events = asyncio.run(scenario())
    assert events and isinstance(events[0].error, RateLimited)
    assert events[0].delay == events[0].error.retry_after
