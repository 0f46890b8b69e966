"""Waiting for the derived indexes. In production mode a write is acknowledged once PostgreSQL
has it; Milvus and Neo4j get it through an outbox that the server waits for only a bounded time
(2 s), so on a loaded machine a search or a graph read may briefly miss a fresh write."""

from __future__ import annotations

import time
import uuid
from typing import Callable, Iterable

from memory_api import MemoryClient, NotFound


def eventually(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


def settle(client: MemoryClient, collection_id: str, ids: Iterable[str] = (), entities: Iterable[str] = ()) -> None:
    """Returns once semantic search finds every one of `ids` and the graph has every entity."""
    wanted = set(ids)
    if wanted:
        # a fresh query each time: an answer computed before the index caught up may be cached
        eventually(
            f"memories {sorted(wanted)} searchable",
            lambda: wanted <= {r.id for r in client.search(collection_id, f"settle {uuid.uuid4()}", top_k=100)},
        )
    for name in entities:

        def has_entity(name: str = name) -> bool:
            try:
                client.get_entity(collection_id, name)
                return True
            except NotFound:
                return False

        eventually(f"entity {name!r} in the graph", has_entity)
