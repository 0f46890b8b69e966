"""Knowledge graph endpoints: entities of a collection (pages, iteration, q) and one entity."""

from __future__ import annotations

import pytest

from helpers import settle
from memory_api import Collection, EntityRef, MemoryClient, NotFound, Relation


def test_entities_list_iterate_and_detail(client: MemoryClient, collection: Collection) -> None:
    atlas = client.add_memory(
        collection.id,
        "Priya leads the Atlas project.",
        entities=[EntityRef("Priya", "person"), EntityRef("Atlas", "project")],
        relations=[Relation("Priya", "LEADS", "Atlas")],
    )
    client.add_memory(collection.id, "Priya's desk is next to the window.", entities=[EntityRef("Priya", "person")])
    client.add_memory(
        collection.id,
        "Marco reviews the Borealis budget.",
        entities=[EntityRef("Marco", "person"), EntityRef("Borealis", "project")],
        relations=[Relation("Marco", "REVIEWS", "Borealis")],
    )

    settle(client, collection.id, entities=["priya", "atlas", "marco", "borealis"])
    names = [e.name for e in client.iter_entities(collection.id)]
    for name in ("priya", "atlas", "marco", "borealis"):
        assert name in names
    assert names == sorted(names)
    # the same, one entity a page
    assert [e.name for e in client.iter_entities(collection.id, page_size=1)] == names
    first = client.list_entities(collection.id, limit=2)
    assert len(first) == 2 and first.next_cursor is not None

    matching = client.list_entities(collection.id, q="PRI")
    assert [e.name for e in matching] == ["priya"]
    priya = matching.entities[0]
    assert (priya.display, priya.type, priya.mentions) == ("Priya", "person", 2)

    # any case, or with a possessive, names the same entity
    detail = client.get_entity(collection.id, "Priya's")
    assert detail.entity == priya
    assert ("atlas", "LEADS", "out") in [(n.name, n.relation, n.direction) for n in detail.neighbours]
    assert atlas in [m.id for m in detail.memories]
    led = client.get_entity(collection.id, "ATLAS")
    assert ("priya", "LEADS", "in") in [(n.name, n.relation, n.direction) for n in led.neighbours]

    # a name that needs encoding in a URL path
    client.add_memory(collection.id, "Met Ana at Café Zoë.", entities=[EntityRef("Café Zoë / Lisbon", "place")])
    settle(client, collection.id, entities=["café zoë / lisbon"])
    assert client.get_entity(collection.id, "café zoë / lisbon").entity.display == "Café Zoë / Lisbon"

    with pytest.raises(NotFound):
        client.get_entity(collection.id, "nobody")
