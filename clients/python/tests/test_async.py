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
