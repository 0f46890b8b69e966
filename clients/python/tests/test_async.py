"""The async client does what the sync one does, against the same server, with the same answers."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers import settle
from memory_api import (
    AsyncMemoryClient,
    EntityRef,
    MemoryClient,
    NewMemory,
    NotFound,
    PermissionDenied,
    Relation,
    ValidationError,
)


def test_every_operation_async_and_parity_with_sync(base_url: str, tokens: "dict[str, str]") -> None:
    async def scenario() -> None:
        async with AsyncMemoryClient(base_url, tokens["pro"], timeout=60) as api:
            assert (await api.health()).status == "healthy"
            assert (await api.ready()).dependencies

            collection = await api.create_collection(f"py-async-{uuid.uuid4()}", "async")
            assert collection in await api.list_collections()
            assert [c.id async for c in api.iter_collections(page_size=1)] == [c.id for c in await api.list_collections()]
            assert len(await api.list_collections_page(limit=1)) == 1
            assert await api.get_collection(collection.id) == collection

            ids = await api.add_memories(
                collection.id,
                [
                    NewMemory("I parked on level 4 of the airport garage, row G.", {"kind": "travel"}, id="car"),
                    "The dentist appointment is on Tuesday at 3 pm.",
                    {"content": "Priya leads the Atlas project.", "metadata": {"kind": "work"}},
                ],
            )
            assert ids[0] == "car" and len(ids) == 3
            one = await api.add_memory(
                collection.id,
                "Marco works on Atlas.",
                {"kind": "work"},
                entities=[EntityRef("Marco", "person"), EntityRef("Atlas", "project")],
                relations=[Relation("Marco", "WORKS_ON", "Atlas")],
            )
            await api.add_memories(collection.id, [f"filler {i}" for i in range(9)])

            seen = [m.id async for m in api.iter_memories(collection.id, page_size=4)]
            assert seen[:4] == [*ids, one] and len(seen) == 13
            page = await api.list_memories(collection.id, limit=5)
            assert len(page) == 5 and page.next_cursor

            memory = await api.get_memory(collection.id, one)
            assert memory.relations == [Relation("Marco", "WORKS_ON", "Atlas")]
            updated = await api.update_memory(collection.id, "car", metadata={"kind": "parking"})
            assert updated.metadata == {"kind": "parking"}

            # the same searches through both clients answer alike
            with MemoryClient(base_url, tokens["pro"], timeout=60) as sync:
                settle(sync, collection.id, seen, ["marco", "atlas"])
                for search_type in ("semantic", "keyword", "hybrid", "graph"):
                    query = "where is the car parked?" if search_type != "graph" else "what does Marco work on?"
                    got = await api.search(collection.id, query, search_type=search_type, top_k=3)  # type: ignore[arg-type]
                    expected = sync.search(collection.id, query, search_type=search_type, top_k=3)  # type: ignore[arg-type]
                    assert [(r.id, r.content, r.metadata, r.path) for r in got] == [
                        (r.id, r.content, r.metadata, r.path) for r in expected
                    ], search_type
                    assert got.search_type == search_type
                assert [e.name async for e in api.iter_entities(collection.id, page_size=1)] == [
                    e.name for e in sync.iter_entities(collection.id)
                ]
                assert await api.get_entity(collection.id, "marco") == sync.get_entity(collection.id, "marco")

            filtered = await api.search(collection.id, "anything", filters={"metadata": {"kind": "work"}})
            assert sorted(r.content for r in filtered) == ["Marco works on Atlas.", "Priya leads the Atlas project."]
            reranked = await api.search(collection.id, "where is the car parked?", rerank=True, top_k=2)
            assert reranked.reranked or reranked.rerank_reason
            assert (await api.list_entities(collection.id, q="atl")).entities[0].name == "atlas"

            with pytest.raises(ValidationError):
                await api.search(collection.id, "x", top_k=1000)
            await api.delete_memory(collection.id, "car")
            with pytest.raises(NotFound):
                await api.get_memory(collection.id, "car")
            await api.delete_collection(collection.id)
            with pytest.raises(NotFound):
                await api.get_collection(collection.id)

        async with AsyncMemoryClient(base_url, tokens["free"]) as free:
            mine = await free.create_collection(f"py-async-free-{uuid.uuid4()}")
            try:
                with pytest.raises(PermissionDenied):
                    await free.search(mine.id, "anything", rerank=True)
            finally:
                await free.delete_collection(mine.id)

    asyncio.run(scenario())


def test_concurrent_async_calls(base_url: str, tokens: "dict[str, str]") -> None:
    async def scenario() -> None:
        async with AsyncMemoryClient(base_url, tokens["pro"], timeout=60) as api:
            collection = await api.create_collection(f"py-gather-{uuid.uuid4()}")
            try:
                batches = await asyncio.gather(
                    *(api.add_memories(collection.id, [NewMemory(f"note {i}", id=f"n{i}")]) for i in range(8))
                )
                assert sorted(b[0] for b in batches) == sorted(f"n{i}" for i in range(8))
                got = await asyncio.gather(*(api.get_memory(collection.id, f"n{i}") for i in range(8)))
                assert [m.content for m in got] == [f"note {i}" for i in range(8)]
            finally:
                await api.delete_collection(collection.id)

    asyncio.run(scenario())


def test_round2_operations_async_and_parity_with_sync(base_url: str, tokens: "dict[str, str]") -> None:
    async def scenario() -> None:
        async with AsyncMemoryClient(base_url, tokens["pro"], timeout=60) as api:
            collection = await api.create_collection(f"py-async-r2-{uuid.uuid4()}", "round 2", idempotency_key=f"k-{uuid.uuid4()}")
            copy = await api.create_collection(f"py-async-r2-copy-{uuid.uuid4()}")
            try:
                renamed = await api.update_collection(collection.id, name=f"{collection.name}-x", description=None)
                assert (renamed.name, renamed.description) == (f"{collection.name}-x", None)
                key = f"k-{uuid.uuid4()}"
                ids = await api.add_memories(
                    collection.id,
                    [NewMemory(f"async note {i}", {"i": i, "odd": i % 2 == 1}, id=f"a{i}", ttl_seconds=3600 if i == 0 else None) for i in range(6)],
                    idempotency_key=key,
                )
                assert await api.add_memories(
                    collection.id,
                    [NewMemory(f"async note {i}", {"i": i, "odd": i % 2 == 1}, id=f"a{i}", ttl_seconds=3600 if i == 0 else None) for i in range(6)],
                    idempotency_key=key,
                ) == ids
                assert (await api.get_memory(collection.id, "a0")).expires_at is not None
                await api.update_memory(collection.id, "a1", content="async note one", expires_at=None)

                with MemoryClient(base_url, tokens["pro"], timeout=60) as sync:
                    odd = {"metadata": {"odd": True}}
                    assert [m.id async for m in api.iter_memories(collection.id, filter=odd, page_size=1)] == [
                        m.id for m in sync.iter_memories(collection.id, filter=odd)
                    ] == ["a1", "a3", "a5"]
                    assert [c.op async for c in api.iter_memory_history(collection.id, "a1", page_size=1)] == [
                        c.op for c in sync.iter_memory_history(collection.id, "a1")
                    ] == ["create", "patch"]
                    assert await api.memory_history(collection.id, "a1") == sync.memory_history(collection.id, "a1")
                    exported = [m async for m in api.export_memories(collection.id)]
                    assert exported == list(sync.export_memories(collection.id))
                    settle(sync, collection.id, ids)
                    got = await api.search(collection.id, "async note one", min_score=0.2)
                    expected = sync.search(collection.id, "async note one", min_score=0.2)
                    assert [r.id for r in got] == [r.id for r in expected] and got.below_min_score == expected.below_min_score

                summary = await api.import_memories(copy.id, exported, max_body_bytes=400)
                assert (summary.imported, summary.failed) == (6, 0) and summary.requests > 1
                assert [m.id async for m in api.export_memories(copy.id)] == ids
                dry = await api.delete_memories(copy.id, filter={"metadata": {"odd": True}}, dry_run=True)
                assert (dry.matched, dry.deleted, dry.ids) == (3, 0, ["a1", "a3", "a5"])
                assert await api.delete_all_memories(copy.id, filter={"metadata": {"odd": True}}, limit=1) == 3
                assert (await api.delete_memories(copy.id, ids=["a0", "a2"])).deleted == 2
                assert [m.id async for m in api.iter_memories(copy.id)] == ["a4"]
            finally:
                await api.delete_collection(collection.id)
                await api.delete_collection(copy.id)

    asyncio.run(scenario())
