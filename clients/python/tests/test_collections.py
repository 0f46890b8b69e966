"""Health, readiness and collections against the running server."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from memory_api import Conflict, MemoryClient, NotFound


def test_health_and_ready_need_no_token(base_url: str) -> None:
    with MemoryClient(base_url, token="") as anonymous:
        health = anonymous.health()
        assert health.status == "healthy"
        assert health.version
        # a 503 (a dependency not ready, e.g. on a loaded machine) is an answer too, not an error
        readiness = anonymous.ready()
        assert readiness.dependencies and all(d.name for d in readiness.dependencies)
        assert readiness.ready == (readiness.status in ("ready", "degraded"))
        assert readiness.ready == all(d.ready or d.optional for d in readiness.dependencies)


def test_create_list_get_delete(client: MemoryClient) -> None:
    name = f"py-notes-{uuid.uuid4()}"
    created = client.create_collection(name, description="trip notes")
    assert created.name == name
    assert created.description == "trip notes"
    assert created.created_at.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - created.created_at).total_seconds()) < 3600

    assert created in client.list_collections()
    assert client.get_collection(created.id) == created

    plain = client.create_collection(f"py-plain-{uuid.uuid4()}")
    assert plain.description is None

    client.delete_collection(created.id)
    client.delete_collection(plain.id)
    with pytest.raises(NotFound):
        client.get_collection(created.id)
    assert created.id not in [c.id for c in client.list_collections()]


def test_a_name_used_twice_is_a_conflict(client: MemoryClient) -> None:
    name = f"py-dup-{uuid.uuid4()}"
    first = client.create_collection(name)
    try:
        with pytest.raises(Conflict) as caught:
            client.create_collection(name)
        assert caught.value.status == 409
        assert caught.value.field == "name"
    finally:
        client.delete_collection(first.id)


def test_base_url_and_token_from_the_environment(base_url: str, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_API_URL", base_url + "/")
    monkeypatch.setenv("MEMORY_API_TOKEN", token)
    with MemoryClient() as from_env:
        assert from_env.base_url == base_url
        assert isinstance(from_env.list_collections(), list)


def test_collections_are_listed_a_page_at_a_time(client: MemoryClient) -> None:
    made = [client.create_collection(f"py-page-{i}-{uuid.uuid4()}") for i in range(3)]
    try:
        first = client.list_collections_page(limit=2)
        assert len(first) == 2 and first.next_cursor is not None
        second = client.list_collections_page(limit=2, cursor=first.next_cursor)
        assert not {c.id for c in first} & {c.id for c in second}
        # following every page, in small pages or large, gives the same list, oldest first
        paged = [c.id for c in client.list_collections(page_size=2)]
        assert paged == [c.id for c in client.list_collections()]
        assert [i for i in paged if i in {c.id for c in made}] == [c.id for c in made]
    finally:
        for collection in made:
            client.delete_collection(collection.id)
