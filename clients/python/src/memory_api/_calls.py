"""Every API operation as data (method, path, body, how to read the answer), so the sync and the
async client share all but the I/O."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union
from urllib.parse import quote

import httpx

from .models import (
    UNSET,
    BulkDeleteResult,
    Collection,
    CollectionPage,
    EntityDetail,
    EntityPage,
    EntityRef,
    Filter,
    Health,
    Instant,
    Memory,
    MemoryHistoryPage,
    MemoryInput,
    MemoryPage,
    Metadata,
    Readiness,
    Relation,
    SearchResponse,
    SearchType,
    Unset,
    Webhook,
    WebhookDeliveryPage,
    WebhookEventType,
    WebhookTestResult,
    format_time,
    memory_json,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Optional[Dict[str, Union[str, int]]] = None
    #: repeating it cannot apply it twice (see RetryPolicy)
    idempotent: bool = True
    #: statuses that are answers, not errors
    ok: Tuple[int, ...] = (200,)
    #: /health and /ready need no token and are never rate limited
    authenticated: bool = True
    #: sent besides the client's own (e.g. `idempotency-key`, the same on every try)
    headers: Optional[Dict[str, str]] = None
    #: a body that is not JSON (an NDJSON import), with its content-type in `headers`
    content: Optional[bytes] = None


def _seg(value: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ValueError(f"an id or name must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def _none(_: httpx.Response) -> None:
    return None


def _params(**values: Any) -> Optional[Dict[str, Union[str, int]]]:
    given = {k: v for k, v in values.items() if v is not None}
    return given or None


def filter_param(filter: Optional[Filter]) -> Optional[str]:
    """A filter as the `filter` query parameter takes it: compact JSON (httpx URL-encodes it)."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise TypeError(f"filter must be a dict in the API's filter language, got {type(filter).__name__}")
    return json.dumps(filter, separators=(",", ":"), ensure_ascii=False)


def idempotency_headers(key: Optional[str]) -> Dict[str, str]:
    """The `Idempotency-Key` of one logical call: the caller's, or a fresh UUID (1..255 visible ASCII)."""
    if key is None:
        key = str(uuid.uuid4())
    if not (1 <= len(key) <= 255) or any(not 0x21 <= ord(ch) <= 0x7E for ch in key):
        raise ValueError("idempotency_key must be 1..255 visible ASCII characters (no spaces)")
    return {"idempotency-key": key}


def health() -> Call[Health]:
    return Call("GET", "/health", lambda r: Health.from_json(r.json()), authenticated=False)


def ready() -> Call[Readiness]:
    # a 503 here is an answer (not ready, and why), not an error
    return Call("GET", "/ready", lambda r: Readiness.from_json(r.json()), ok=(200, 503), authenticated=False)


def create_collection(name: str, description: Optional[str], idempotency_key: Optional[str]) -> Call[Collection]:
    body: Dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    # without the key, a repeat after a late 503 would answer 409 (name taken), not the
    # collection; with it, the repeat gets the first answer
    return Call(
        "POST",
        "/v1/collections",
        lambda r: Collection.from_json(r.json()),
        json=body,
        ok=(201,),
        headers=idempotency_headers(idempotency_key),
    )


def update_collection(collection_id: str, name: Optional[str], description: Union[str, None, Unset]) -> Call[Collection]:
    body: Dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if description is not UNSET:
        body["description"] = description
    # each given field is replaced: a repeat leaves the same collection
    return Call("PATCH", f"/v1/collections/{_seg(collection_id)}", lambda r: Collection.from_json(r.json()), json=body)


def list_collections(limit: Optional[int], cursor: Optional[str]) -> Call[CollectionPage]:
    return Call("GET", "/v1/collections", lambda r: CollectionPage.from_json(r.json()), params=_params(limit=limit, cursor=cursor))


def get_collection(collection_id: str) -> Call[Collection]:
    return Call("GET", f"/v1/collections/{_seg(collection_id)}", lambda r: Collection.from_json(r.json()))


def delete_collection(collection_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/collections/{_seg(collection_id)}", _none, ok=(204,))


def add_memories(collection_id: str, memories: Sequence[MemoryInput], idempotency_key: Optional[str]) -> Call[List[str]]:
    if isinstance(memories, (str, bytes)) or not isinstance(memories, Sequence):
        raise TypeError("memories must be a list (of NewMemory, str or dict)")
    items = [memory_json(m) for m in memories]
    # the key makes a repeat get the first answer (and with every id given, the write is an
    # upsert besides: repeating it changes nothing)
    return Call(
        "POST",
        f"/v1/collections/{_seg(collection_id)}/memories",
        lambda r: list(r.json()["ids"]),
        json={"memories": items},
        ok=(201,),
        headers=idempotency_headers(idempotency_key),
    )


def list_memories(collection_id: str, limit: Optional[int], cursor: Optional[str], filter: Optional[Filter]) -> Call[MemoryPage]:
    return Call(
        "GET",
        f"/v1/collections/{_seg(collection_id)}/memories",
        lambda r: MemoryPage.from_json(r.json()),
        params=_params(limit=limit, cursor=cursor, filter=filter_param(filter)),
    )


def memory_history(collection_id: str, memory_id: str, limit: Optional[int], cursor: Optional[str]) -> Call[MemoryHistoryPage]:
    return Call(
        "GET",
        f"/v1/collections/{_seg(collection_id)}/memories/{_seg(memory_id)}/history",
        lambda r: MemoryHistoryPage.from_json(r.json()),
        params=_params(limit=limit, cursor=cursor),
    )


def delete_memories(
    collection_id: str,
    ids: Optional[Sequence[str]],
    filter: Optional[Filter],
    all: bool,
    limit: Optional[int],
    dry_run: bool,
) -> Call[BulkDeleteResult]:
    if isinstance(ids, str):
        raise TypeError("ids must be a list of memory ids")
    if (ids is not None) + (filter is not None) + bool(all) != 1:
        raise ValueError("give exactly one of ids, filter and all=True (all=True deletes every memory)")
    body: Dict[str, Any] = {}
    if ids is not None:
        body["ids"] = list(ids)
    if filter is not None:
        body["filter"] = dict(filter)
    if all:
        body["all"] = True
    if limit is not None:
        body["limit"] = limit
    if dry_run:
        body["dry_run"] = True
    # by ids a repeat deletes nothing more; by filter or all it would delete the next `limit`
    return Call(
        "POST",
        f"/v1/collections/{_seg(collection_id)}/memories/delete",
        lambda r: BulkDeleteResult.from_json(r.json()),
        json=body,
        idempotent=ids is not None or dry_run,
    )


def get_memory(collection_id: str, memory_id: str) -> Call[Memory]:
    return Call("GET", f"/v1/collections/{_seg(collection_id)}/memories/{_seg(memory_id)}", lambda r: Memory.from_json(r.json()))


def update_memory(
    collection_id: str,
    memory_id: str,
    content: Optional[str],
    metadata: Optional[Metadata],
    entities: Optional[Sequence[EntityRef]],
    relations: Optional[Sequence[Relation]],
    expires_at: Union[Instant, None, Unset] = UNSET,
    ttl_seconds: Optional[int] = None,
) -> Call[Memory]:
    body: Dict[str, Any] = {}
    if content is not None:
        body["content"] = content
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if entities is not None:
        body["entities"] = [e.to_json() for e in entities]
    if relations is not None:
        body["relations"] = [r.to_json() for r in relations]
    if expires_at is not UNSET:
        # None clears the expiry
        body["expires_at"] = format_time(expires_at) if expires_at is not None else None
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    # each given field is replaced whole, so a repeat leaves the same memory
    return Call(
        "PATCH",
        f"/v1/collections/{_seg(collection_id)}/memories/{_seg(memory_id)}",
        lambda r: Memory.from_json(r.json()),
        json=body,
    )


def delete_memory(collection_id: str, memory_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/collections/{_seg(collection_id)}/memories/{_seg(memory_id)}", _none, ok=(204,))


def search(
    collection_id: str,
    query: str,
    top_k: Optional[int],
    search_type: Optional[SearchType],
    filters: Optional[Mapping[str, Any]],
    rerank: Optional[bool],
    created_after: Union[str, datetime, None],
    created_before: Union[str, datetime, None],
    min_score: Optional[float] = None,
) -> Call[SearchResponse]:
    body: Dict[str, Any] = {"query": query, "collection_id": collection_id}
    if top_k is not None:
        body["top_k"] = top_k
    if search_type is not None:
        body["search_type"] = search_type
    merged: Dict[str, Any] = dict(filters) if filters is not None else {}
    if created_after is not None:
        merged["created_after"] = format_time(created_after)
    if created_before is not None:
        merged["created_before"] = format_time(created_before)
    if filters is not None or merged:
        body["filters"] = merged
    if rerank is not None:
        body["rerank"] = rerank
    if min_score is not None:
        body["min_score"] = min_score
    return Call("POST", "/v1/search", lambda r: SearchResponse.from_json(r.json()), json=body)


def list_entities(collection_id: str, q: Optional[str], limit: Optional[int], cursor: Optional[str]) -> Call[EntityPage]:
    return Call(
        "GET",
        f"/v1/collections/{_seg(collection_id)}/entities",
        lambda r: EntityPage.from_json(r.json()),
        params=_params(q=q, limit=limit, cursor=cursor),
    )


def get_entity(collection_id: str, name: str) -> Call[EntityDetail]:
    return Call("GET", f"/v1/collections/{_seg(collection_id)}/entities/{_seg(name)}", lambda r: EntityDetail.from_json(r.json()))


# --- webhooks ---------------------------------------------------------------------------------


def _webhooks(collection_id: str) -> str:
    return f"/v1/collections/{_seg(collection_id)}/webhooks"


def _events(events: Optional[Sequence[WebhookEventType]]) -> Optional[List[str]]:
    if events is None:
        return None
    if isinstance(events, str):
        raise TypeError("events must be a list of event types, e.g. [\"memory.created\"]")
    return list(events)


def create_webhook(
    collection_id: str, url: str, events: Optional[Sequence[WebhookEventType]], description: Optional[str]
) -> Call[Webhook]:
    body: Dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = _events(events)
    if description is not None:
        body["description"] = description
    # a repeat would register a second webhook (and the first one's secret would be lost)
    return Call("POST", _webhooks(collection_id), lambda r: Webhook.from_json(r.json()), json=body, ok=(201,), idempotent=False)


def list_webhooks(collection_id: str) -> Call[List[Webhook]]:
    return Call("GET", _webhooks(collection_id), lambda r: [Webhook.from_json(w) for w in r.json()["webhooks"]])


def get_webhook(collection_id: str, webhook_id: str) -> Call[Webhook]:
    return Call("GET", f"{_webhooks(collection_id)}/{_seg(webhook_id)}", lambda r: Webhook.from_json(r.json()))


def update_webhook(
    collection_id: str,
    webhook_id: str,
    url: Optional[str],
    events: Optional[Sequence[WebhookEventType]],
    description: Union[str, None, Unset],
    enabled: Optional[bool],
    rotate_secret: bool,
) -> Call[Webhook]:
    body: Dict[str, Any] = {}
    if url is not None:
        body["url"] = url
    if events is not None:
        body["events"] = _events(events)
    if description is not UNSET:
        body["description"] = description
    if enabled is not None:
        body["enabled"] = enabled
    if rotate_secret:
        body["rotate_secret"] = True
    # each given field is replaced, so a repeat leaves the same webhook; but a repeated rotation
    # would make another secret, and the one in the lost answer would sign nothing
    return Call(
        "PATCH",
        f"{_webhooks(collection_id)}/{_seg(webhook_id)}",
        lambda r: Webhook.from_json(r.json()),
        json=body,
        idempotent=not rotate_secret,
    )


def delete_webhook(collection_id: str, webhook_id: str) -> Call[None]:
    return Call("DELETE", f"{_webhooks(collection_id)}/{_seg(webhook_id)}", _none, ok=(204,))


def test_webhook(collection_id: str, webhook_id: str) -> Call[WebhookTestResult]:
    # a repeat sends the receiver one more test delivery, which changes nothing
    return Call("POST", f"{_webhooks(collection_id)}/{_seg(webhook_id)}/test", lambda r: WebhookTestResult.from_json(r.json()))


def list_webhook_deliveries(
    collection_id: str, webhook_id: str, limit: Optional[int], cursor: Optional[str]
) -> Call[WebhookDeliveryPage]:
    return Call(
        "GET",
        f"{_webhooks(collection_id)}/{_seg(webhook_id)}/deliveries",
        lambda r: WebhookDeliveryPage.from_json(r.json()),
        params=_params(limit=limit, cursor=cursor),
    )


# --- streams: the requests; reading them is in _streams.py ------------------------------------


def export_memories(collection_id: str, filter: Optional[Filter], cursor: Optional[str]) -> Call[None]:
    """GET …/export, opened as a stream (its lines are read by `_streams.ExportReader`)."""
    return Call(
        "GET",
        f"/v1/collections/{_seg(collection_id)}/export",
        _none,
        params=_params(filter=filter_param(filter), cursor=cursor),
        headers={"accept": "application/x-ndjson"},
    )


def import_memories(collection_id: str, body: bytes, every_id: bool) -> Call[None]:
    """POST …/import of one chunk of NDJSON, opened as a stream (read by `_streams.ImportTally`)."""
    return Call(
        "POST",
        f"/v1/collections/{_seg(collection_id)}/import",
        _none,
        content=body,
        # no Idempotency-Key on import: lines with ids make a repeat an upsert of the same memories
        idempotent=every_id,
        headers={"content-type": "application/x-ndjson", "accept": "application/x-ndjson"},
    )
