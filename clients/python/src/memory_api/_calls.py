"""Every API operation as data (method, path, body, how to read the answer), so the sync and the
async client share all but the I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union
from urllib.parse import quote

import httpx

from .models import (
    Collection,
    EntityDetail,
    EntityPage,
    EntityRef,
    Health,
    Memory,
    MemoryInput,
    MemoryPage,
    Metadata,
    Readiness,
    Relation,
    SearchResponse,
    SearchType,
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


def _seg(value: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ValueError(f"an id or name must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def _none(_: httpx.Response) -> None:
    return None


def _params(**values: Any) -> Optional[Dict[str, Union[str, int]]]:
    given = {k: v for k, v in values.items() if v is not None}
    return given or None


def health() -> Call[Health]:
    return Call("GET", "/health", lambda r: Health.from_json(r.json()), authenticated=False)


def ready() -> Call[Readiness]:
    # a 503 here is an answer (not ready, and why), not an error
    return Call("GET", "/ready", lambda r: Readiness.from_json(r.json()), ok=(200, 503), authenticated=False)


def create_collection(name: str, description: Optional[str]) -> Call[Collection]:
    body: Dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    # a repeat after a late 503 would answer 409 (name taken), not the collection
    return Call("POST", "/v1/collections", lambda r: Collection.from_json(r.json()), json=body, idempotent=False, ok=(201,))


def list_collections() -> Call[List[Collection]]:
    return Call("GET", "/v1/collections", lambda r: [Collection.from_json(c) for c in r.json()["collections"]])


def get_collection(collection_id: str) -> Call[Collection]:
    return Call("GET", f"/v1/collections/{_seg(collection_id)}", lambda r: Collection.from_json(r.json()))


def delete_collection(collection_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/collections/{_seg(collection_id)}", _none, ok=(204,))


def add_memories(collection_id: str, memories: Sequence[MemoryInput]) -> Call[List[str]]:
    if isinstance(memories, (str, bytes)) or not isinstance(memories, Sequence):
        raise TypeError("memories must be a list (of NewMemory, str or dict)")
    items = [memory_json(m) for m in memories]
    # with every id given, the write is an upsert: repeating it changes nothing
    every_id = bool(items) and all(item.get("id") is not None for item in items)
    return Call(
        "POST",
        f"/v1/collections/{_seg(collection_id)}/memories",
        lambda r: list(r.json()["ids"]),
        json={"memories": items},
        idempotent=every_id,
        ok=(201,),
    )


def list_memories(collection_id: str, limit: Optional[int], cursor: Optional[str]) -> Call[MemoryPage]:
    return Call(
        "GET",
        f"/v1/collections/{_seg(collection_id)}/memories",
        lambda r: MemoryPage.from_json(r.json()),
        params=_params(limit=limit, cursor=cursor),
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
