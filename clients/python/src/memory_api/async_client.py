"""The asynchronous client: the same methods as MemoryClient, awaited."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime
from types import TracebackType
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
)

import httpx

from . import _calls as calls
from ._paging import follow_async
from ._settings import DEFAULT_TIMEOUT, Settings, Timeout
from ._streams import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_RESUMES,
    ExportReader,
    ImportChunk,
    ImportChunker,
    ImportItem,
    ImportTally,
    StreamBroken,
)
from .errors import ApiConnectionError, ApiError, ApiTimeoutError, error_from_response
from .models import (
    UNSET,
    BulkDeleteResult,
    Collection,
    CollectionPage,
    Entity,
    EntityDetail,
    EntityPage,
    EntityRef,
    Filter,
    Health,
    ImportProgress,
    ImportSummary,
    Instant,
    Memory,
    MemoryChange,
    MemoryHistoryPage,
    MemoryInput,
    MemoryPage,
    Metadata,
    NewMemory,
    Readiness,
    Relation,
    SearchResponse,
    SearchType,
    Unset,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookEventType,
    WebhookTestResult,
)
from .retry import OnRetry, RetryEvent, RetryPolicy

T = TypeVar("T")

# module-level so tests can replace the waiting
_sleep = asyncio.sleep


class AsyncMemoryClient:
    """Memory API over HTTP for asyncio. Use it with `async with`, or call `aclose()`.

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
        http_client: Optional[httpx.AsyncClient] = None,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self._settings = Settings.resolve(base_url, token, timeout, retry, on_retry, headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncMemoryClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    async def _run(self, call: "calls.Call[T]") -> T:
        return call.parse(await self._send(call, stream=False))

    @asynccontextmanager
    async def _stream(self, call: "calls.Call[Any]") -> AsyncIterator[httpx.Response]:
        """The answer once its status is a success (errors retried and raised as for `_run`), its
        body still to be read; closed on leaving."""
        response = await self._send(call, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _send(self, call: "calls.Call[Any]", stream: bool) -> httpx.Response:
        settings = self._settings
        headers = {**settings.headers, **settings.request_headers(call.authenticated), **(call.headers or {})}
        attempt, waited = 1, 0.0
        while True:
            request = self._http.build_request(
                call.method,
                settings.base_url + call.path,
                params=call.params,
                json=call.json if call.content is None else None,
                content=call.content,
                headers=headers,
                timeout=settings.timeout,
            )
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TimeoutException as error:
                raise ApiTimeoutError(f"{call.method} {call.path}: no answer within the timeout ({error})") from error
            except httpx.TransportError as error:
                raise ApiConnectionError(f"{call.method} {call.path}: {error}") from error
            if response.status_code in call.ok:
                return response
            if stream:
                try:
                    await response.aread()
                except httpx.TransportError as error:
                    raise ApiConnectionError(f"{call.method} {call.path}: {error}") from error
                finally:
                    await response.aclose()
            failure = error_from_response(response)
            keyed = "idempotency-key" in (call.headers or {})
            delay = settings.retry.delay(failure, attempt, waited, call.idempotent, keyed)
            if delay is None:
                raise failure
            if settings.on_retry:
                settings.on_retry(RetryEvent(call.method, call.path, attempt, delay, failure))
            await _sleep(delay)
            waited += delay
            attempt += 1

    # --- health ----------------------------------------------------------------------------

    async def health(self) -> Health:
        """Liveness: answers whenever the process runs."""
        return await self._run(calls.health())

    async def ready(self) -> Readiness:
        """Readiness with each dependency's state; `.ready` is False while a required one is down."""
        return await self._run(calls.ready())

    # --- collections -----------------------------------------------------------------------

    async def create_collection(
        self, name: str, description: Optional[str] = None, *, idempotency_key: Optional[str] = None
    ) -> Collection:
        """A new collection; `Conflict` (409) if you already have one of that name.

        Sent with an `Idempotency-Key` (`idempotency_key`, or a fresh UUID): a retry of this call
        gets the first try's answer rather than a 409. Give your own key to retry it yourself,
        e.g. after an `ApiTimeoutError` (the server keeps answers 24 h).
        """
        return await self._run(calls.create_collection(name, description, idempotency_key))

    async def list_collections(self, *, page_size: Optional[int] = None) -> List[Collection]:
        """All your collections, oldest first (the API pages them; this follows every page)."""
        return [collection async for collection in self.iter_collections(page_size=page_size)]

    async def list_collections_page(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> CollectionPage:
        """One page of your collections; pass its `next_cursor` as `cursor` for the next."""
        return await self._run(calls.list_collections(limit, cursor))

    async def iter_collections(self, *, page_size: Optional[int] = None) -> AsyncIterator[Collection]:
        """Your collections, oldest first, a page at a time as the iteration goes."""
        async for collection in follow_async(lambda cursor: self.list_collections_page(limit=page_size, cursor=cursor), lambda page: page.collections):
            yield collection

    async def get_collection(self, collection_id: str) -> Collection:
        return await self._run(calls.get_collection(collection_id))

    async def update_collection(
        self, collection_id: str, *, name: Optional[str] = None, description: Union[str, None, Unset] = UNSET
    ) -> Collection:
        """Renames a collection and/or changes its description; returns it as it now is.

        Each given field replaces it; `description=None` clears the description (leave it out to
        keep it). Its memories, id and `created_at` stay. `Conflict` if you use `name` for another
        of your collections; `ValidationError` when neither is given.
        """
        return await self._run(calls.update_collection(collection_id, name, description))

    async def delete_collection(self, collection_id: str) -> None:
        """Deletes the collection and its memories."""
        await self._run(calls.delete_collection(collection_id))

    # --- memories --------------------------------------------------------------------------

    async def add_memories(
        self, collection_id: str, memories: Sequence[MemoryInput], *, idempotency_key: Optional[str] = None
    ) -> List[str]:
        """Adds 1..1000 memories; returns their ids in order. A given `id` upserts that memory.

        Each may expire (`NewMemory(..., ttl_seconds=3600)` or `expires_at=`, or those keys in a
        dict). Sent with an `Idempotency-Key` (`idempotency_key`, or a fresh UUID per call), so a
        retry after a 503 never stores the memories twice; give your own key to retry the call
        yourself (the same key with another body is a `Conflict`).
        """
        return await self._run(calls.add_memories(collection_id, memories, idempotency_key))

    async def add_memory(
        self,
        collection_id: str,
        content: str,
        metadata: Optional[Metadata] = None,
        *,
        id: Optional[str] = None,
        entities: Optional[Sequence[EntityRef]] = None,
        relations: Optional[Sequence[Relation]] = None,
        expires_at: Optional[Instant] = None,
        ttl_seconds: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> str:
        """Adds one memory; returns its id. `expires_at` or `ttl_seconds` makes it expire."""
        memory = NewMemory(content, metadata, id, entities, relations, expires_at, ttl_seconds)
        return (await self._run(calls.add_memories(collection_id, [memory], idempotency_key)))[0]

    async def list_memories(
        self,
        collection_id: str,
        *,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        filter: Optional[Filter] = None,
    ) -> MemoryPage:
        """One page (`limit` 1..1000, default 100) in insertion order; pass `next_cursor` on.

        `filter` keeps the memories it matches, in the filter language of `search` (v2:
        `{"metadata": {"tag": {"$in": ["a", "b"]}}, "$not": {...}}`); the cursor pages through the
        matches, so pass the same filter with it.
        """
        return await self._run(calls.list_memories(collection_id, limit, cursor, filter))

    async def iter_memories(
        self, collection_id: str, *, page_size: Optional[int] = None, filter: Optional[Filter] = None
    ) -> AsyncIterator[Memory]:
        """Every memory of the collection (or those `filter` matches), a page at a time as the iteration goes."""
        async for memory in follow_async(lambda cursor: self.list_memories(collection_id, limit=page_size, cursor=cursor, filter=filter), lambda page: page.memories):
            yield memory

    async def get_memory(self, collection_id: str, memory_id: str) -> Memory:
        return await self._run(calls.get_memory(collection_id, memory_id))

    async def update_memory(
        self,
        collection_id: str,
        memory_id: str,
        *,
        content: Optional[str] = None,
        metadata: Optional[Metadata] = None,
        entities: Optional[Sequence[EntityRef]] = None,
        relations: Optional[Sequence[Relation]] = None,
        expires_at: Union[Instant, None, Unset] = UNSET,
        ttl_seconds: Optional[int] = None,
    ) -> Memory:
        """Replaces each given field whole (metadata too); returns the memory as it now is.

        `expires_at` (an instant) or `ttl_seconds` sets when it expires; `expires_at=None`
        clears the expiry (it then never expires); leaving both out keeps it.
        """
        return await self._run(
            calls.update_memory(collection_id, memory_id, content, metadata, entities, relations, expires_at, ttl_seconds)
        )

    async def delete_memory(self, collection_id: str, memory_id: str) -> None:
        await self._run(calls.delete_memory(collection_id, memory_id))

    async def delete_memories(
        self,
        collection_id: str,
        ids: Optional[Sequence[str]] = None,
        filter: Optional[Filter] = None,
        all: bool = False,
        limit: Optional[int] = None,
        dry_run: bool = False,
    ) -> BulkDeleteResult:
        """One call of a bulk delete: the memories with these `ids`, or those `filter` matches, or
        `all=True` of them (exactly one of the three; an empty filter is refused).

        At most `limit` (1..1000, default 1000) go per call, oldest first, in one transaction;
        `has_more` says more match: call again, or use `delete_all_memories`. `dry_run=True`
        deletes nothing and answers what would go. Each deletion is recorded in the memory's
        history, like `delete_memory`.
        """
        return await self._run(calls.delete_memories(collection_id, ids, filter, all, limit, dry_run))

    async def delete_all_memories(
        self,
        collection_id: str,
        ids: Optional[Sequence[str]] = None,
        filter: Optional[Filter] = None,
        all: bool = False,
        limit: Optional[int] = None,
    ) -> int:
        """`delete_memories` again and again while `has_more`; returns how many were deleted in all."""
        deleted = 0
        while True:
            answer = await self.delete_memories(collection_id, ids, filter, all, limit)
            deleted += answer.deleted
            if not answer.has_more:
                return deleted

    async def memory_history(
        self, collection_id: str, memory_id: str, *, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> MemoryHistoryPage:
        """One page (`limit` 1..1000, default 100) of a memory's changes, oldest first; pass
        `next_cursor` on for newer ones. Readable after the memory was deleted or expired."""
        return await self._run(calls.memory_history(collection_id, memory_id, limit, cursor))

    async def iter_memory_history(
        self, collection_id: str, memory_id: str, *, page_size: Optional[int] = None
    ) -> AsyncIterator[MemoryChange]:
        """Every change of a memory, oldest first, a page at a time as the iteration goes."""
        async for change in follow_async(lambda cursor: self.memory_history(collection_id, memory_id, limit=page_size, cursor=cursor), lambda page: page.history):
            yield change

    # --- export and import (NDJSON) --------------------------------------------------------

    async def export_memories(
        self,
        collection_id: str,
        *,
        filter: Optional[Filter] = None,
        cursor: Optional[str] = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
    ) -> AsyncIterator[Memory]:
        """Every memory of the collection (or those `filter` matches) in insertion order, read
        from the streamed NDJSON export line by line as the iteration goes.

        The stream carries a checkpoint after each page; it is complete only with its final one.
        When it breaks off (the connection, an error line, or an end without that checkpoint) the
        export is resumed from the last checkpoint, without yielding any memory twice, up to
        `max_resumes` times in a row; then `ExportInterrupted`, whose `cursor` goes on from there
        (as `cursor=` here). Errors before the stream starts (`NotFound`, `ValidationError` for a
        bad filter or cursor) are raised as they are.
        """
        reader = ExportReader(cursor, max_resumes, self._settings.retry)
        while True:
            try:
                async with self._stream(calls.export_memories(collection_id, filter, reader.cursor)) as response:
                    async for text in response.aiter_lines():
                        memory = reader.line(text)
                        if memory is not None:
                            yield memory
                        if reader.complete:
                            return
                    reader.ended()
                return
            except (StreamBroken, ApiConnectionError) as broken:
                delay = reader.resume_delay(broken)
            except httpx.TransportError as error:
                delay = reader.resume_delay(StreamBroken(f"the export broke off: {error!r}", error))
            await _sleep(delay)

    async def import_memories(
        self,
        collection_id: str,
        memories: Union[Iterable[ImportItem], AsyncIterable[ImportItem]],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        on_progress: Optional[Callable[[ImportProgress], None]] = None,
    ) -> ImportSummary:
        """Writes `memories` (an iterable or async iterable: as `export_memories` yields them, ids
        kept, or as `add_memories` takes them) into the collection through the NDJSON import, in
        requests of at most `max_body_bytes` (keep it under the server's MAX_BODY_BYTES, 10 MiB
        by default).

        Bad memories do not stop the others: the summary counts them and lists them
        (`errors`, numbered from 1 over all of `memories`). `on_progress` is called after each
        batch the server wrote. A request refused before it starts raises its error (the first
        one as it is, later ones as `ImportInterrupted`); an import that stops part-way raises
        `ImportInterrupted` with the line to resume at. A request whose memories all have ids is
        retried after a 503 (it is an upsert); others are not.
        """
        tally = ImportTally(on_progress)
        chunker = ImportChunker(max_body_bytes)
        if isinstance(memories, AsyncIterable):
            async for item in memories:
                full = chunker.add(item)
                if full is not None:
                    await self._import_chunk(collection_id, full, tally)
        else:
            for item in memories:
                full = chunker.add(item)
                if full is not None:
                    await self._import_chunk(collection_id, full, tally)
        last = chunker.finish()
        if last is not None:
            await self._import_chunk(collection_id, last, tally)
        return tally.summary()

    async def _import_chunk(self, collection_id: str, chunk: ImportChunk, tally: ImportTally) -> None:
        tally.begin(chunk)
        try:
            async with self._stream(calls.import_memories(collection_id, chunk.body, chunk.every_id)) as response:
                try:
                    async for text in response.aiter_lines():
                        tally.line(text)
                except httpx.TransportError as error:
                    raise tally.interrupted(error) from error
                tally.ended()
        except ApiError as error:
            refused = tally.refused(error)
            if refused is error:
                raise
            raise refused from error

    # --- search ----------------------------------------------------------------------------

    async def search(
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
        min_score: Optional[float] = None,
    ) -> SearchResponse:
        """Searches a collection (`top_k` 1..100, default 10; `search_type` default semantic).

        `filters` is the API's filter object, v1 or v2 (`{"metadata": {"kind": "travel", "year":
        {"$gte": 2025}}, "$or": [...], "$not": {...}}`); `created_after`/`created_before` are added
        to it. `rerank=True` needs a pro or enterprise token (`PermissionDenied` otherwise).
        `min_score` keeps only the results scoring at least it (the scale depends on the search
        type: cosine for semantic, RRF for hybrid, ...); `below_min_score` counts those left out.
        """
        return await self._run(
            calls.search(collection_id, query, top_k, search_type, filters, rerank, created_after, created_before, min_score)
        )

    # --- knowledge graph -------------------------------------------------------------------

    async def list_entities(
        self,
        collection_id: str,
        *,
        q: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> EntityPage:
        """One page of the collection's entities by name; `q` keeps names containing it."""
        return await self._run(calls.list_entities(collection_id, q, limit, cursor))

    async def iter_entities(
        self, collection_id: str, *, q: Optional[str] = None, page_size: Optional[int] = None
    ) -> AsyncIterator[Entity]:
        async for entity in follow_async(lambda cursor: self.list_entities(collection_id, q=q, limit=page_size, cursor=cursor), lambda page: page.entities):
            yield entity

    async def get_entity(self, collection_id: str, name: str) -> EntityDetail:
        """An entity (by name, any case), its neighbours and the memories that mention it."""
        return await self._run(calls.get_entity(collection_id, name))

    # --- webhooks --------------------------------------------------------------------------

    async def create_webhook(
        self,
        collection_id: str,
        url: str,
        events: Optional[Sequence[WebhookEventType]] = None,
        description: Optional[str] = None,
    ) -> Webhook:
        """Registers a webhook: the collection's changes from now on are POSTed to `url`.

        `events` keeps only those types (default: every type). The answer's `secret` signs every
        delivery (check it with `verify_webhook_signature`) and is shown only here: keep it.
        `ValidationError` for a URL the server does not deliver to; `Conflict` when the
        collection already has as many webhooks as allowed. Not retried after a 503 (a repeat
        would register a second one) unless `retry_unsafe=True`.
        """
        return await self._run(calls.create_webhook(collection_id, url, events, description))

    async def list_webhooks(self, collection_id: str) -> List[Webhook]:
        """The collection's webhooks with their delivery state (no secrets)."""
        return await self._run(calls.list_webhooks(collection_id))

    async def get_webhook(self, collection_id: str, webhook_id: str) -> Webhook:
        """One webhook and its delivery state: cursor (`delivered_seq`), failures, next retry."""
        return await self._run(calls.get_webhook(collection_id, webhook_id))

    async def update_webhook(
        self,
        collection_id: str,
        webhook_id: str,
        *,
        url: Optional[str] = None,
        events: Optional[Sequence[WebhookEventType]] = None,
        description: Union[str, None, Unset] = UNSET,
        enabled: Optional[bool] = None,
        rotate_secret: bool = False,
    ) -> Webhook:
        """Changes each given field; returns the webhook as it now is.

        `description=None` clears it; `events=[]` means every type. `enabled=False` pauses
        deliveries; `enabled=True` resumes from where it stopped (nothing committed meanwhile is
        skipped) and clears the failures. `rotate_secret=True` answers with a new `secret`,
        which signs every delivery from then on (such a call is not retried after a 503).
        `ValidationError` when nothing is given.
        """
        return await self._run(calls.update_webhook(collection_id, webhook_id, url, events, description, enabled, rotate_secret))

    async def delete_webhook(self, collection_id: str, webhook_id: str) -> None:
        """Deletes the webhook and its delivery log."""
        await self._run(calls.delete_webhook(collection_id, webhook_id))

    async def test_webhook(self, collection_id: str, webhook_id: str) -> WebhookTestResult:
        """Sends a signed test delivery (`{"type": "webhook.test", "events": []}`) now, even to a
        disabled webhook, and says how the receiver answered (`delivered`, `status_code`,
        `error`); a receiver that fails is an answer, not an exception."""
        return await self._run(calls.test_webhook(collection_id, webhook_id))

    async def list_webhook_deliveries(
        self, collection_id: str, webhook_id: str, *, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> WebhookDeliveryPage:
        """One page (`limit` 1..1000, default 100) of the webhook's delivery log, newest first;
        pass `next_cursor` on for older ones. Every attempt, with its status, duration and error."""
        return await self._run(calls.list_webhook_deliveries(collection_id, webhook_id, limit, cursor))

    async def iter_webhook_deliveries(
        self, collection_id: str, webhook_id: str, *, page_size: Optional[int] = None
    ) -> AsyncIterator[WebhookDelivery]:
        """Every attempt of the webhook's delivery log, newest first, a page at a time as the iteration goes."""
        async for delivery in follow_async(lambda cursor: self.list_webhook_deliveries(collection_id, webhook_id, limit=page_size, cursor=cursor), lambda page: page.deliveries):
            yield delivery
