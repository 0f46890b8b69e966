"""The synchronous client."""

from __future__ import annotations

import time
from datetime import datetime
from types import TracebackType
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Type, TypeVar, Union

import httpx

from . import _calls as calls
from ._settings import DEFAULT_TIMEOUT, Settings, Timeout
from .errors import ApiConnectionError, ApiTimeoutError, error_from_response
from .models import (
    Collection,
    Entity,
    EntityDetail,
    EntityPage,
    EntityRef,
    Health,
    Memory,
    MemoryInput,
    MemoryPage,
    Metadata,
    NewMemory,
    Readiness,
    Relation,
    SearchResponse,
    SearchType,
)
from .retry import OnRetry, RetryEvent, RetryPolicy

T = TypeVar("T")

# module-level so tests can replace the waiting
_sleep = time.sleep


class MemoryClient:
    """Memory API over HTTP, blocking. Use it as a context manager, or call `close()`.

    `base_url` and `token` default to the `MEMORY_API_URL` and `MEMORY_API_TOKEN` environment
    variables (then `http://localhost:8000`). `token` is a JWT (or an API key, where the server
    issues them). `timeout` is in seconds for the whole of each request (or an `httpx.Timeout`).
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        on_retry: Optional[OnRetry] = None,
        headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.Client] = None,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self._settings = Settings.resolve(base_url, token, timeout, retry, on_retry, headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, transport=transport)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "MemoryClient":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def _run(self, call: "calls.Call[T]") -> T:
        settings = self._settings
        headers = {**settings.headers, **settings.request_headers(call.authenticated)}
        attempt, waited = 1, 0.0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    settings.base_url + call.path,
                    params=call.params,
                    json=call.json,
                    headers=headers,
                    timeout=settings.timeout,
                )
            except httpx.TimeoutException as error:
                raise ApiTimeoutError(f"{call.method} {call.path}: no answer within the timeout ({error})") from error
            except httpx.TransportError as error:
                raise ApiConnectionError(f"{call.method} {call.path}: {error}") from error
            if response.status_code in call.ok:
                return call.parse(response)
            failure = error_from_response(response)
            delay = settings.retry.delay(failure, attempt, waited, call.idempotent)
            if delay is None:
                raise failure
            if settings.on_retry:
                settings.on_retry(RetryEvent(call.method, call.path, attempt, delay, failure))
            _sleep(delay)
            waited += delay
            attempt += 1

    # --- health ----------------------------------------------------------------------------

    def health(self) -> Health:
        """Liveness: answers whenever the process runs."""
        return self._run(calls.health())

    def ready(self) -> Readiness:
        """Readiness with each dependency's state; `.ready` is False while a required one is down."""
        return self._run(calls.ready())

    # --- collections -----------------------------------------------------------------------

    def create_collection(self, name: str, description: Optional[str] = None) -> Collection:
        """A new collection; `Conflict` (409) if you already have one of that name."""
        return self._run(calls.create_collection(name, description))

    def list_collections(self) -> List[Collection]:
        return self._run(calls.list_collections())

    def get_collection(self, collection_id: str) -> Collection:
        return self._run(calls.get_collection(collection_id))

    def delete_collection(self, collection_id: str) -> None:
        """Deletes the collection and its memories."""
        self._run(calls.delete_collection(collection_id))

    # --- memories --------------------------------------------------------------------------

    def add_memories(self, collection_id: str, memories: Sequence[MemoryInput]) -> List[str]:
        """Adds 1..1000 memories; returns their ids in order. A given `id` upserts that memory."""
        return self._run(calls.add_memories(collection_id, memories))

    def add_memory(
        self,
        collection_id: str,
        content: str,
        metadata: Optional[Metadata] = None,
        *,
        id: Optional[str] = None,
        entities: Optional[Sequence[EntityRef]] = None,
        relations: Optional[Sequence[Relation]] = None,
    ) -> str:
        """Adds one memory; returns its id."""
        memory = NewMemory(content, metadata, id, entities, relations)
        return self._run(calls.add_memories(collection_id, [memory]))[0]

    def list_memories(self, collection_id: str, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> MemoryPage:
        """One page (`limit` 1..1000, default 100) in insertion order; pass `next_cursor` on."""
        return self._run(calls.list_memories(collection_id, limit, cursor))

    def iter_memories(self, collection_id: str, *, page_size: Optional[int] = None) -> Iterator[Memory]:
        """Every memory of the collection, fetching a page at a time as the iteration goes."""
        cursor: Optional[str] = None
        while True:
            page = self.list_memories(collection_id, limit=page_size, cursor=cursor)
            yield from page.memories
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_memory(self, collection_id: str, memory_id: str) -> Memory:
        return self._run(calls.get_memory(collection_id, memory_id))

    def update_memory(
        self,
        collection_id: str,
        memory_id: str,
        *,
        content: Optional[str] = None,
        metadata: Optional[Metadata] = None,
        entities: Optional[Sequence[EntityRef]] = None,
        relations: Optional[Sequence[Relation]] = None,
    ) -> Memory:
        """Replaces each given field whole (metadata too); returns the memory as it now is."""
        return self._run(calls.update_memory(collection_id, memory_id, content, metadata, entities, relations))

    def delete_memory(self, collection_id: str, memory_id: str) -> None:
        self._run(calls.delete_memory(collection_id, memory_id))

    # --- search ----------------------------------------------------------------------------

    def search(
        self,
        collection_id: str,
        query: str,
        *,
        top_k: Optional[int] = None,
        search_type: Optional[SearchType] = None,
        filters: Optional[Mapping[str, Any]] = None,
        rerank: Optional[bool] = None,
        created_after: Union[str, datetime, None] = None,
        created_before: Union[str, datetime, None] = None,
    ) -> SearchResponse:
        """Searches a collection (`top_k` 1..100, default 10; `search_type` default semantic).

        `filters` is the API's filter object (`{"metadata": {"kind": "travel", "year": {"$gte": 2025}}}`);
        `created_after`/`created_before` are added to it. `rerank=True` needs a pro or
        enterprise token (`PermissionDenied` otherwise).
        """
        return self._run(
            calls.search(collection_id, query, top_k, search_type, filters, rerank, created_after, created_before)
        )

    # --- knowledge graph -------------------------------------------------------------------

    def list_entities(
        self,
        collection_id: str,
        *,
        q: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> EntityPage:
        """One page of the collection's entities by name; `q` keeps names containing it."""
        return self._run(calls.list_entities(collection_id, q, limit, cursor))

    def iter_entities(self, collection_id: str, *, q: Optional[str] = None, page_size: Optional[int] = None) -> Iterator[Entity]:
        cursor: Optional[str] = None
        while True:
            page = self.list_entities(collection_id, q=q, limit=page_size, cursor=cursor)
            yield from page.entities
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_entity(self, collection_id: str, name: str) -> EntityDetail:
        """An entity (by name, any case), its neighbours and the memories that mention it."""
        return self._run(calls.get_entity(collection_id, name))
