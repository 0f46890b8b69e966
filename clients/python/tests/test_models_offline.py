"""Parsing answers and formatting arguments (no server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from memory_api import Memory, NewMemory, SearchResponse
from memory_api.errors import parse_retry_after
from memory_api.models import format_time, parse_time


def test_times() -> None:
    assert parse_time("2026-11-25T09:00:00.000Z") == datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    assert parse_time("2026-11-25T09:00:00.1234567Z") == datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=timezone.utc)
    assert parse_time("2026-11-25T10:00:00.5+01:00") == datetime(2026, 11, 25, 9, 0, 0, 500000, tzinfo=timezone.utc)
    assert parse_time("2026-11-25T09:00:00") == datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    assert format_time(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    assert format_time(datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))) == "2026-01-02T03:04:05Z"
    assert format_time("2026-01-02") == "2026-01-02"


def test_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_unknown_fields_are_ignored() -> None:
    memory = Memory.from_json(
        {"id": "a", "content": "c", "metadata": {"k": 1}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "expires_at": None}
    )
    assert memory.metadata == {"k": 1} and memory.entities is None
    answer = SearchResponse.from_json(
        {"results": [], "search_type": "semantic", "top_k": 1, "cached": True, "reranked": False, "took_ms": 0.5, "min_score": 0.2}
    )
    assert answer.cached and answer.rerank_reason is None


def test_new_memory_sends_only_what_is_given() -> None:
    assert NewMemory("x").to_json() == {"content": "x"}
    assert NewMemory("x", {}, "id-1").to_json() == {"content": "x", "metadata": {}, "id": "id-1"}
