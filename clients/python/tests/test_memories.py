"""Memories: add (batch, upsert), list with cursors, iterate, get, patch, delete."""

from __future__ import annotations

import pytest

from memory_api import Collection, EntityRef, MemoryClient, NewMemory, NotFound, Relation


def test_add_get_update_delete(client: MemoryClient, collection: Collection) -> None:
    ids = client.add_memories(
        collection.id,
        [
            "I parked on level 4 of the airport garage, row G.",
            NewMemory("The dentist appointment is on Tuesday at 3 pm.", {"kind": "health", "year": 2026}),
            {"content": "Buy oat milk and coffee beans.", "metadata": {"kind": "shopping"}, "id": "shopping-1"},
        ],
    )
    assert len(ids) == 3
    assert ids[2] == "shopping-1"

    parked = client.get_memory(collection.id, ids[0])
    assert parked.content == "I parked on level 4 of the airport garage, row G."
    assert parked.metadata == {}
    assert parked.created_at <= parked.updated_at
    dentist = client.get_memory(collection.id, ids[1])
    assert dentist.metadata == {"kind": "health", "year": 2026}

    updated = client.update_memory(collection.id, "shopping-1", metadata={"kind": "groceries"})
    assert updated.content == "Buy oat milk and coffee beans."
    assert updated.metadata == {"kind": "groceries"}
    rewritten = client.update_memory(collection.id, "shopping-1", content="Buy oat milk.")
    assert rewritten.content == "Buy oat milk."
    assert rewritten.metadata == {"kind": "groceries"}
    assert rewritten.created_at == updated.created_at
    assert client.get_memory(collection.id, "shopping-1") == rewritten

    client.delete_memory(collection.id, ids[0])
    with pytest.raises(NotFound):
        client.get_memory(collection.id, ids[0])
    with pytest.raises(NotFound):
        client.delete_memory(collection.id, ids[0])


def test_a_given_id_upserts_keeping_created_at(client: MemoryClient, collection: Collection) -> None:
    first = client.add_memory(collection.id, "Version one.", {"v": 1}, id="note:a")
    assert first == "note:a"
    before = client.get_memory(collection.id, "note:a")
    assert client.add_memory(collection.id, "Version two.", {"v": 2}, id="note:a") == "note:a"
    after = client.get_memory(collection.id, "note:a")
    assert (after.content, after.metadata) == ("Version two.", {"v": 2})
    assert after.created_at == before.created_at
    assert [m.id for m in client.iter_memories(collection.id)] == ["note:a"]


def test_supplied_entities_and_relations_come_back(client: MemoryClient, collection: Collection) -> None:
    mid = client.add_memory(
        collection.id,
        "Priya leads the Atlas project.",
        entities=[EntityRef("Priya", "person"), EntityRef("Atlas", "project")],
        relations=[Relation("Priya", "LEADS", "Atlas")],
    )
    memory = client.get_memory(collection.id, mid)
    assert memory.entities == [EntityRef("Priya", "person"), EntityRef("Atlas", "project")]
    assert memory.relations == [Relation("Priya", "LEADS", "Atlas")]
    plain = client.get_memory(collection.id, client.add_memory(collection.id, "Nothing supplied."))
    assert plain.entities is None and plain.relations is None


def test_pages_and_iteration_in_insertion_order(client: MemoryClient, collection: Collection) -> None:
    contents = [f"memory number {i}" for i in range(25)]
    ids = client.add_memories(collection.id, contents)

    first = client.list_memories(collection.id, limit=10)
    assert [m.content for m in first] == contents[:10]
    assert first.next_cursor is not None
    second = client.list_memories(collection.id, limit=10, cursor=first.next_cursor)
    assert [m.id for m in second] == ids[10:20]
    third = client.list_memories(collection.id, limit=10, cursor=second.next_cursor)
    assert len(third) == 5
    assert third.next_cursor is None

    assert [m.id for m in client.iter_memories(collection.id, page_size=7)] == ids
    assert [m.id for m in client.iter_memories(collection.id)] == ids

    # the iterator fetches lazily: taking three reads one page
    taken = []
    for memory in client.iter_memories(collection.id, page_size=3):
        taken.append(memory.content)
        if len(taken) == 3:
            break
    assert taken == contents[:3]


def test_an_empty_collection_iterates_to_nothing(client: MemoryClient, collection: Collection) -> None:
    assert list(client.iter_memories(collection.id)) == []
    page = client.list_memories(collection.id)
    assert len(page) == 0 and page.next_cursor is None
