"""Search: every search type, top_k, filters, rerank, and read-your-writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from helpers import settle
from memory_api import Collection, EntityRef, MemoryClient, NewMemory, Relation

NOTES = [
    NewMemory("I parked the car on level 4 of the airport garage, row G.", {"kind": "travel", "year": 2026}, id="car"),
    NewMemory("The dentist appointment is on Tuesday at 3 pm.", {"kind": "health", "year": 2025}, id="dentist"),
    NewMemory("Buy oat milk, coffee beans and bananas at the grocery store.", {"kind": "shopping", "year": 2026}, id="groceries"),
    NewMemory("The flight to Lisbon leaves from terminal 2 at 7:40.", {"kind": "travel", "year": 2024}, id="flight"),
    NewMemory(
        "Priya leads the Atlas project with Marco.",
        {"kind": "work", "year": 2026},
        id="atlas",
        entities=[EntityRef("Priya", "person"), EntityRef("Atlas", "project"), EntityRef("Marco", "person")],
        relations=[Relation("Priya", "LEADS", "Atlas"), Relation("Marco", "WORKS_ON", "Atlas")],
    ),
    NewMemory("The Atlas launch review is scheduled for Friday.", {"kind": "work", "year": 2026}, id="launch"),
]


@pytest.fixture()
def notes(client: MemoryClient, collection: Collection) -> Iterator[Collection]:
    client.add_memories(collection.id, NOTES)
    settle(client, collection.id, [n.id for n in NOTES if n.id], ["priya", "atlas", "marco"])
    yield collection


def test_semantic_is_the_default(client: MemoryClient, notes: Collection) -> None:
    answer = client.search(notes.id, "where did I leave my car?")
    assert answer.search_type == "semantic"
    assert answer.top_k == 10
    assert answer.reranked is False
    assert answer.results[0].id == "car"
    assert answer.results[0].metadata == {"kind": "travel", "year": 2026}
    assert answer.took_ms >= 0
    scores = [r.score for r in answer]
    assert scores == sorted(scores, reverse=True)
    assert len(answer) == len(NOTES)


@pytest.mark.parametrize(
    ("search_type", "query", "best"),
    [
        ("semantic", "when do I see the dentist?", "dentist"),
        ("keyword", "oat milk bananas", "groceries"),
        ("hybrid", "flight to Lisbon terminal", "flight"),
    ],
)
def test_each_search_type(client: MemoryClient, notes: Collection, search_type: str, query: str, best: str) -> None:
    answer = client.search(notes.id, query, search_type=search_type, top_k=3)  # type: ignore[arg-type]
    assert answer.search_type == search_type
    assert answer.top_k == 3
    assert 1 <= len(answer) <= 3
    assert answer.results[0].id == best


def test_graph_search_gives_the_path(client: MemoryClient, notes: Collection) -> None:
    answer = client.search(notes.id, "What is Priya working on?", search_type="graph")
    assert answer.search_type == "graph"
    ids = [r.id for r in answer]
    assert "atlas" in ids
    found = answer.results[ids.index("atlas")]
    assert found.path and found.path[0].lower() == "priya"


def test_top_k_bounds_the_answer(client: MemoryClient, notes: Collection) -> None:
    assert len(client.search(notes.id, "anything at all", top_k=2)) == 2


def test_metadata_filters(client: MemoryClient, notes: Collection) -> None:
    travel = client.search(notes.id, "where to go", filters={"metadata": {"kind": "travel"}})
    assert sorted(r.id for r in travel) == ["car", "flight"]
    either = client.search(notes.id, "plans", filters={"metadata": {"kind": {"$in": ["health", "shopping"]}}})
    assert sorted(r.id for r in either) == ["dentist", "groceries"]
    recent = client.search(notes.id, "plans", filters={"metadata": {"year": {"$gte": 2026}, "kind": "work"}})
    assert sorted(r.id for r in recent) == ["atlas", "launch"]


def test_date_filters(client: MemoryClient, notes: Collection) -> None:
    hour = timedelta(hours=1)
    now = datetime.now(timezone.utc)
    assert len(client.search(notes.id, "anything", created_after=now - hour)) == len(NOTES)
    assert len(client.search(notes.id, "anything", created_after=now + hour)) == 0
    assert len(client.search(notes.id, "anything", created_before=now - hour)) == 0
    # as strings, and combined with a metadata filter
    combined = client.search(
        notes.id,
        "anything",
        filters={"metadata": {"kind": "travel"}},
        created_before=(now + hour).isoformat(),
    )
    assert sorted(r.id for r in combined) == ["car", "flight"]


def test_rerank_for_a_premium_token(client: MemoryClient, notes: Collection) -> None:
    answer = client.search(notes.id, "when is the Atlas review?", search_type="hybrid", rerank=True, top_k=3)
    # reranked, or (no model, busy) answered unreranked with the reason
    assert answer.reranked or answer.rerank_reason in ("reranker_busy", "reranker_not_configured")
    if answer.reranked:
        assert answer.results[0].id == "launch"


def test_a_write_is_seen_by_the_next_search(client: MemoryClient, notes: Collection) -> None:
    query = "what is the wifi password at the cabin?"
    before = client.search(notes.id, query, top_k=1)
    again = client.search(notes.id, query, top_k=1)
    assert again.cached is True
    assert again.results == before.results
    client.add_memory(notes.id, "The wifi password at the cabin is pinecone42.", id="wifi")
    settle(client, notes.id, ["wifi"])
    # (production may answer from the cache: popular searches are recomputed right after a write)
    after = client.search(notes.id, query, top_k=1)
    assert after.results[0].id == "wifi"
