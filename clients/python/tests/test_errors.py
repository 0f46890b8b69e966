"""problem+json answers of the real server become the matching exception, with every field."""

from __future__ import annotations

import pytest

from memory_api import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    Collection,
    MemoryClient,
    NotFound,
    PermissionDenied,
    ValidationError,
)


def test_422_names_the_field(client: MemoryClient, collection: Collection) -> None:
    with pytest.raises(ValidationError) as caught:
        client.search(collection.id, "anything", top_k=0)
    error = caught.value
    assert (error.status, error.code, error.field) == (422, "validation_failed", "top_k")
    assert error.type == "/problems/validation_failed"
    assert error.title == "Invalid request"
    assert "top_k" in error.detail
    assert error.request_id
    assert isinstance(error, ApiError)

    with pytest.raises(ValidationError) as caught:
        client.add_memories(collection.id, ["fine", {"content": ""}])
    assert caught.value.field == "memories[1].content"

    with pytest.raises(ValidationError) as caught:
        client.search(collection.id, "anything", filters={"metadata": {"year": {"$regex": "20.*"}}})
    assert caught.value.field == "filters.metadata.year.$regex"
    assert "unknown operator" in caught.value.detail

    with pytest.raises(ValidationError) as caught:
        client.list_memories(collection.id, cursor="not-a-cursor")
    assert caught.value.field == "query.cursor"

    with pytest.raises(ValidationError):
        client.update_memory(collection.id, "whatever")  # nothing to change


def test_401_for_a_bad_a_missing_or_an_expired_token(base_url: str, tokens: "dict[str, str]") -> None:
    for token, words in [("not-a-jwt", "invalid"), ("", "missing"), (tokens["expired"], "expired")]:
        with MemoryClient(base_url, token) as client:
            with pytest.raises(AuthenticationError) as caught:
                client.list_collections()
        assert caught.value.status == 401
        assert caught.value.code == "unauthorized"
        assert words in caught.value.detail
        assert caught.value.headers.get("www-authenticate", "").startswith("Bearer")


def test_404_for_what_is_not_yours(base_url: str, tokens: "dict[str, str]", client: MemoryClient, collection: Collection) -> None:
    mid = client.add_memory(collection.id, "mine alone")
    with MemoryClient(base_url, tokens["other"]) as other:
        for attempt in (
            lambda: other.get_collection(collection.id),
            lambda: other.get_memory(collection.id, mid),
            lambda: other.search(collection.id, "mine"),
            lambda: other.list_entities(collection.id),
            lambda: other.delete_collection(collection.id),
        ):
            with pytest.raises(NotFound) as caught:
                attempt()
            assert caught.value.code == "not_found"
    with pytest.raises(NotFound) as caught:
        client.get_memory(collection.id, "no-such-memory")
    assert caught.value.detail == "memory not found"
    assert client.get_memory(collection.id, mid).content == "mine alone"


def test_403_rerank_from_the_free_tier(base_url: str, tokens: "dict[str, str]") -> None:
    with MemoryClient(base_url, tokens["free"]) as free:
        mine = free.create_collection("free-notes")
        try:
            free.add_memory(mine.id, "The spare key is in the blue drawer.")
            with pytest.raises(PermissionDenied) as caught:
                free.search(mine.id, "where is the spare key?", rerank=True)
            assert caught.value.status == 403
            assert caught.value.code == "premium_required"
            # the same search without rerank is fine
            # (keyword: read from PostgreSQL, so no wait for the vector index on the free budget)
            answer = free.search(mine.id, "spare key", search_type="keyword")
            assert answer.results[0].content.startswith("The spare key")
        finally:
            free.delete_collection(mine.id)


def test_no_server_is_a_connection_error() -> None:
    with MemoryClient("http://127.0.0.1:9", "t", timeout=2) as nowhere:
        with pytest.raises(ApiConnectionError):
            nowhere.list_collections()


def test_ids_and_names_are_checked_before_any_request(client: MemoryClient) -> None:
    with pytest.raises(ValueError):
        client.get_collection("")
    with pytest.raises(TypeError):
        client.add_memories("c", "a string is not a list of memories")  # type: ignore[arg-type]
