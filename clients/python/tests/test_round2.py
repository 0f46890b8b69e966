"""The operations added in round 2, against the running server: list filters, min_score,
history, expiry, Idempotency-Key, collection PATCH, bulk delete, and NDJSON export / import."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpers import settle
from memory_api import (
    Collection,
    Conflict,
    ImportProgress,
    MemoryClient,
    NewMemory,
    NotFound,
    ValidationError,
)

TAGGED = [
    NewMemory("Pasta with basil and tomatoes.", {"kind": "food", "year": 2026, "tags": ["italy", "dinner"]}, id="pasta"),
    NewMemory("Train to Milan at 8:10 from platform 3.", {"kind": "travel", "year": 2025}, id="train"),
    NewMemory("Thai green curry recipe with coconut milk.", {"kind": "food", "year": 2024}, id="curry"),
    NewMemory("Quarterly report due on Friday.", {"kind": "work"}, id="report"),
]


def test_list_filters_in_the_v2_language(client: MemoryClient, collection: Collection) -> None:
    client.add_memories(collection.id, TAGGED)
    food = client.list_memories(collection.id, filter={"metadata": {"kind": "food"}})
    assert [m.id for m in food] == ["pasta", "curry"]
    v2 = {"$or": [{"metadata": {"year": {"$gte": 2026}}}, {"$not": {"metadata": {"year": {"$exists": True}}}}]}
    assert [m.id for m in client.iter_memories(collection.id, filter=v2, page_size=1)] == ["pasta", "report"]
    assert [m.id for m in client.iter_memories(collection.id, filter={"metadata": {"tags": {"$contains": "italy"}}})] == ["pasta"]
    with pytest.raises(ValidationError) as caught:
        client.list_memories(collection.id, filter={"metadata": {"kind": {"$regex": "f.*"}}})
    assert "filter" in (caught.value.field or caught.value.detail)


def test_search_v2_filters_and_min_score(client: MemoryClient, collection: Collection) -> None:
    client.add_memories(collection.id, TAGGED)
    settle(client, collection.id, [m.id for m in TAGGED if m.id])
    answer = client.search(
        collection.id,
        "what should I cook?",
        filters={"metadata": {"kind": "food"}, "$not": {"metadata": {"year": {"$lt": 2025}}}},
    )
    assert [r.id for r in answer] == ["pasta"]
    assert answer.below_min_score is None
    everything = client.search(collection.id, "Thai curry with coconut")
    best = everything.results[0]
    assert best.id == "curry"
    strict = client.search(collection.id, "Thai curry with coconut", min_score=best.score)
    assert [r.id for r in strict] == ["curry"]
    assert strict.below_min_score == len(everything) - 1
    nothing = client.search(collection.id, "Thai curry with coconut", min_score=1.01)
    assert nothing.results == [] and nothing.below_min_score == len(everything)


def test_history_of_a_memory_oldest_first_kept_after_delete(client: MemoryClient, collection: Collection) -> None:
    client.add_memory(collection.id, "Alice likes tea.", {"topic": "food"}, id="m1")
    client.update_memory(collection.id, "m1", content="Alice likes green tea.")
    client.add_memory(collection.id, "Alice likes coffee.", id="m1")
    client.delete_memory(collection.id, "m1")
    page = client.memory_history(collection.id, "m1", limit=2)
    assert page.memory_id == "m1" and len(page) == 2 and page.next_cursor
    changes = list(client.iter_memory_history(collection.id, "m1", page_size=1))
    assert [c.op for c in changes] == ["create", "patch", "replace", "delete"]
    assert changes[:2] == page.history
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    create, patch = changes[0], changes[1]
    assert create.old is None and create.new is not None and create.new.content == "Alice likes tea."
    assert create.new.metadata == {"topic": "food"} and create.new.expires_at is None
    assert patch.old == create.new and patch.new is not None and patch.new.content == "Alice likes green tea."
    assert changes[-1].new is None and changes[-1].old is not None and changes[-1].old.content == "Alice likes coffee."
    assert create.by and create.at.tzinfo is not None
    with pytest.raises(NotFound):
        client.memory_history(collection.id, "never-written")


def test_expiry_on_add_and_update(client: MemoryClient, collection: Collection) -> None:
    at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    client.add_memory(collection.id, "The door code is 4711.", id="otp", ttl_seconds=3600)
    otp = client.get_memory(collection.id, "otp")
    assert otp.expires_at is not None
    assert timedelta(minutes=55) < otp.expires_at - datetime.now(timezone.utc) < timedelta(minutes=65)
    client.add_memories(collection.id, [NewMemory("Fixed.", id="fixed", expires_at=at), {"content": "As a dict.", "id": "d", "expires_at": at}])
    assert client.get_memory(collection.id, "fixed").expires_at == at
    assert client.get_memory(collection.id, "d").expires_at == at
    assert client.get_memory(collection.id, client.add_memory(collection.id, "Forever.")).expires_at is None

    moved = client.update_memory(collection.id, "otp", expires_at="2030-01-01T00:00:00Z")
    assert moved.expires_at == datetime(2030, 1, 1, tzinfo=timezone.utc)
    untouched = client.update_memory(collection.id, "otp", metadata={"k": 1})
    assert untouched.expires_at == moved.expires_at
    kept = client.update_memory(collection.id, "otp", expires_at=None)
    assert kept.expires_at is None
    assert client.update_memory(collection.id, "otp", ttl_seconds=60).expires_at is not None

    client.add_memory(collection.id, "Gone in a second.", id="short", ttl_seconds=1)
    time.sleep(1.3)
    with pytest.raises(NotFound):
        client.get_memory(collection.id, "short")
    with pytest.raises(ValidationError) as caught:
        client.add_memory(collection.id, "Both.", ttl_seconds=5, expires_at=at)
    assert "ttl_seconds" in (caught.value.field or "")


def test_idempotency_key_replays_the_first_answer(client: MemoryClient, collection: Collection) -> None:
    key = f"py-{uuid.uuid4()}"
    first = client.add_memories(collection.id, ["No id, added once."], idempotency_key=key)
    again = client.add_memories(collection.id, ["No id, added once."], idempotency_key=key)
    assert again == first
    assert [m.content for m in client.iter_memories(collection.id)] == ["No id, added once."]
    with pytest.raises(Conflict) as caught:
        client.add_memories(collection.id, ["Another body."], idempotency_key=key)
    assert caught.value.field == "headers.idempotency-key"
    # without a key of the caller's, every call is a new write
    client.add_memories(collection.id, ["Twice."])
    client.add_memories(collection.id, ["Twice."])
    assert len(list(client.iter_memories(collection.id))) == 3

    name, ckey = f"py-idem-{uuid.uuid4()}", f"py-{uuid.uuid4()}"
    made = client.create_collection(name, idempotency_key=ckey)
    try:
        assert client.create_collection(name, idempotency_key=ckey) == made
        with pytest.raises(Conflict):
            client.create_collection(name)
    finally:
        client.delete_collection(made.id)


def test_update_collection_name_and_description(client: MemoryClient, collection: Collection) -> None:
    client.add_memory(collection.id, "Stays.")
    renamed = client.update_collection(collection.id, name=f"{collection.name}-renamed")
    assert (renamed.id, renamed.name, renamed.description) == (collection.id, f"{collection.name}-renamed", collection.description)
    assert renamed.created_at == collection.created_at
    described = client.update_collection(collection.id, description="new words")
    assert (described.name, described.description) == (renamed.name, "new words")
    cleared = client.update_collection(collection.id, description=None)
    assert (cleared.name, cleared.description) == (renamed.name, None)
    assert client.get_collection(collection.id) == cleared
    assert [m.content for m in client.iter_memories(collection.id)] == ["Stays."]
    with pytest.raises(ValidationError):
        client.update_collection(collection.id)
    other = client.create_collection(f"py-other-{uuid.uuid4()}")
    try:
        with pytest.raises(Conflict):
            client.update_collection(collection.id, name=other.name)
    finally:
        client.delete_collection(other.id)
    with pytest.raises(NotFound):
        client.update_collection(str(uuid.uuid4()), name="x")


def test_bulk_delete_by_ids_filter_and_all(client: MemoryClient, collection: Collection) -> None:
    client.add_memories(collection.id, [NewMemory(f"draft {i}", {"status": "draft"}, id=f"d{i}") for i in range(7)])
    client.add_memories(collection.id, [NewMemory(f"kept {i}", {"status": "final"}, id=f"k{i}") for i in range(3)])

    dry = client.delete_memories(collection.id, filter={"metadata": {"status": "draft"}}, dry_run=True, limit=5)
    assert (dry.dry_run, dry.matched, dry.deleted, dry.ids, dry.has_more) == (True, 5, 0, [f"d{i}" for i in range(5)], True)
    assert len(list(client.iter_memories(collection.id))) == 10

    by_ids = client.delete_memories(collection.id, ids=["d0", "d1", "missing"])
    assert (by_ids.dry_run, by_ids.matched, by_ids.deleted, sorted(by_ids.ids), by_ids.has_more) == (False, 2, 2, ["d0", "d1"], False)
    assert [c.op for c in client.iter_memory_history(collection.id, "d0")] == ["create", "delete"]

    assert client.delete_all_memories(collection.id, filter={"metadata": {"status": "draft"}}, limit=2) == 5
    assert sorted(m.id for m in client.iter_memories(collection.id)) == ["k0", "k1", "k2"]

    with pytest.raises(ValidationError):
        client.delete_memories(collection.id, filter={})
    with pytest.raises(ValueError):
        client.delete_memories(collection.id)
    with pytest.raises(ValueError):
        client.delete_memories(collection.id, ids=["k0"], all=True)
    assert client.delete_all_memories(collection.id, all=True) == 3
    assert list(client.iter_memories(collection.id)) == []


def test_export_then_import_into_a_new_collection(client: MemoryClient, collection: Collection) -> None:
    later = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    memories = [NewMemory(f"note {i}: {'x' * (i % 7)}", {"i": i, "even": i % 2 == 0}, id=f"n{i}") for i in range(1, 1201)]
    memories[0] = NewMemory("note 1 expires", {"i": 1, "even": False}, id="n1", expires_at=later)
    for start in range(0, len(memories), 1000):
        client.add_memories(collection.id, memories[start : start + 1000])

    exported = list(client.export_memories(collection.id))
    assert [m.id for m in exported] == [m.id for m in memories]
    assert exported[0].expires_at == later
    assert exported[5] == client.get_memory(collection.id, "n6")
    evens = list(client.export_memories(collection.id, filter={"metadata": {"even": True}}))
    assert [m.id for m in evens] == [f"n{i}" for i in range(2, 1201, 2)]

    copy = client.create_collection(f"py-copy-{uuid.uuid4()}")
    try:
        progress: list = []
        summary = client.import_memories(copy.id, exported, max_body_bytes=64 * 1024, on_progress=progress.append)
        assert (summary.imported, summary.failed, summary.errors) == (1200, 0, [])
        assert summary.lines == 1200 and summary.requests > 1
        assert progress and progress[-1] == ImportProgress(1200, 0)
        assert all(a.imported <= b.imported for a, b in zip(progress, progress[1:]))
        copied = list(client.export_memories(copy.id))
        assert [(m.id, m.content, m.metadata, m.expires_at) for m in copied] == [
            (m.id, m.content, m.metadata, m.expires_at) for m in exported
        ]
        # importing the same export again upserts: nothing doubles
        assert client.import_memories(copy.id, exported[:10]).imported == 10
        assert len(list(client.iter_memories(copy.id, page_size=1000))) == 1200
    finally:
        client.delete_collection(copy.id)


def test_import_reports_bad_lines_numbered_across_requests(client: MemoryClient, collection: Collection) -> None:
    items: list = [{"content": f"line {i}", "id": f"l{i}"} for i in range(1, 13)]
    items[4] = {"content": "", "id": "l5"}
    items[10] = {"content": "bad metadata", "metadata": "not an object"}
    size = max(len(json.dumps(i, separators=(",", ":")).encode()) + 1 for i in items)
    summary = client.import_memories(collection.id, items, max_body_bytes=size * 4)
    assert summary.requests > 1
    assert (summary.imported, summary.failed, summary.lines) == (10, 2, 12)
    assert [(e.line, e.field) for e in summary.errors] == [(5, "content"), (11, "metadata")]
    assert summary.errors[1].detail.startswith("line 11: metadata")
    assert len(list(client.iter_memories(collection.id))) == 10
    with pytest.raises(NotFound):
        client.import_memories(str(uuid.uuid4()), ["x"])
