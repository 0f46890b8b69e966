"""Typed values of the API: what it answers (parsed from JSON) and what a caller sends.

Answers ignore fields they do not know, so a newer server keeps working with this client.
Timestamps are timezone-aware datetimes (UTC).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Literal, Mapping, Optional, Sequence, Union

SearchType = Literal["semantic", "keyword", "hybrid", "graph"]
"""`semantic` (meaning), `keyword` (BM25), `hybrid` (RRF of both), `graph` (entities, 1-2 hops)."""

Metadata = Dict[str, Any]

Filter = Mapping[str, Any]
"""A filter in the API's language (v2; v1 bodies are a subset): `{"metadata": {"kind": "travel",
"year": {"$gte": 2025}}, "created_at": {"$gt": "2026-01-01"}, "$or": [...], "$not": {...}}`."""

Instant = Union[str, datetime]
"""A point in time: an aware datetime (naive means UTC) or ISO-8601 text passed on as given."""


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset.UNSET
"""The default of an argument whose `None` means something (e.g. clear a description): not given."""

Unset = Literal[_Unset.UNSET]


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> datetime:
    """An ISO-8601 timestamp of the API (`2026-11-25T09:00:00.000Z`) as an aware datetime."""
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    # Python before 3.11 reads only 3 or 6 digits of a fraction
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_time(value: Instant) -> str:
    """A datetime as the API's ISO-8601 (naive means UTC); a string is passed on as given."""
    if isinstance(value, str):
        return value
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# --- what a caller sends -------------------------------------------------------------------


@dataclass(frozen=True)
class EntityRef:
    """An entity a memory mentions, supplied by the caller (kept besides the extracted ones)."""

    name: str
    type: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name} if self.type is None else {"name": self.name, "type": self.type}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntityRef":
        return cls(name=data["name"], type=data.get("type"))


@dataclass(frozen=True)
class Relation:
    """A relation a memory states (`Priya` `WORKS_ON` `Atlas`); unknown endpoints become entities."""

    source: str
    relation: str
    target: str

    def to_json(self) -> Dict[str, Any]:
        return {"source": self.source, "relation": self.relation, "target": self.target}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Relation":
        return cls(source=data["source"], relation=data["relation"], target=data["target"])


@dataclass(frozen=True)
class NewMemory:
    """One memory to add. Giving an `id` makes the write an upsert (and safe to retry).

    `expires_at` (a future instant, at most ten years ahead) or `ttl_seconds` (1..315,360,000)
    makes it expire: from then on get, list and search no longer see it. Give one, not both.
    """

    content: str
    metadata: Optional[Metadata] = None
    id: Optional[str] = None
    entities: Optional[Sequence[EntityRef]] = None
    relations: Optional[Sequence[Relation]] = None
    expires_at: Optional[Instant] = None
    ttl_seconds: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {"content": self.content}
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        if self.id is not None:
            body["id"] = self.id
        if self.entities is not None:
            body["entities"] = [e.to_json() for e in self.entities]
        if self.relations is not None:
            body["relations"] = [r.to_json() for r in self.relations]
        if self.expires_at is not None:
            body["expires_at"] = format_time(self.expires_at)
        if self.ttl_seconds is not None:
            body["ttl_seconds"] = self.ttl_seconds
        return body


MemoryInput = Union[NewMemory, str, Mapping[str, Any]]
"""A memory to add: a NewMemory, just its content, or the JSON object the API takes."""


def memory_json(item: MemoryInput) -> Dict[str, Any]:
    if isinstance(item, NewMemory):
        return item.to_json()
    if isinstance(item, str):
        return {"content": item}
    body = dict(item)
    if isinstance(body.get("expires_at"), datetime):
        body["expires_at"] = format_time(body["expires_at"])
    return body


# --- what the API answers ------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    id: str
    name: str
    description: Optional[str]
    created_at: datetime
    #: cosine similarity from which `dedupe` treats a new memory as a duplicate (servers before it: None)
    dedupe_threshold: Optional[float] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Collection":
        return cls(
            id=data["id"],
            name=data["name"],
            description=data.get("description"),
            created_at=parse_time(data["created_at"]),
            dedupe_threshold=data.get("dedupe_threshold"),
        )


@dataclass(frozen=True)
class CollectionPage:
    """One page of your collections, oldest first; `next_cursor` is None at the end."""

    collections: List[Collection]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[Collection]:
        return iter(self.collections)

    def __len__(self) -> int:
        return len(self.collections)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CollectionPage":
        return cls(collections=[Collection.from_json(c) for c in data["collections"]], next_cursor=data.get("next_cursor"))


@dataclass(frozen=True)
class Memory:
    id: str
    content: str
    metadata: Metadata
    created_at: datetime
    updated_at: datetime
    #: The entities and relations the caller supplied, if any (extracted ones are not listed).
    entities: Optional[List[EntityRef]] = None
    relations: Optional[List[Relation]] = None
    #: When it expires (and vanishes from get, list and search); None: never.
    expires_at: Optional[datetime] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Memory":
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            entities=[EntityRef.from_json(e) for e in data["entities"]] if data.get("entities") is not None else None,
            relations=[Relation.from_json(r) for r in data["relations"]] if data.get("relations") is not None else None,
            expires_at=parse_time(data["expires_at"]) if data.get("expires_at") is not None else None,
        )

    def to_json(self) -> Dict[str, Any]:
        """The memory as the API answers it (and as an export line has it, which import reads)."""
        body: Dict[str, Any] = {
            "id": self.id,
            "content": self.content,
            "metadata": dict(self.metadata),
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "expires_at": format_time(self.expires_at) if self.expires_at is not None else None,
        }
        if self.entities is not None:
            body["entities"] = [e.to_json() for e in self.entities]
        if self.relations is not None:
            body["relations"] = [r.to_json() for r in self.relations]
        return body


@dataclass(frozen=True)
class MemoryPage:
    """One page of a collection's memories in insertion order; `next_cursor` is None at the end."""

    memories: List[Memory]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[Memory]:
        return iter(self.memories)

    def __len__(self) -> int:
        return len(self.memories)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MemoryPage":
        return cls(memories=[Memory.from_json(m) for m in data["memories"]], next_cursor=data.get("next_cursor"))


ChangeOp = Literal["create", "replace", "patch", "delete", "expire"]
"""`create` (a new id, or one written again after a delete or expiry), `replace` (an upsert over
an existing memory), `patch`, `delete`, `expire` (its `expires_at` passed)."""


@dataclass(frozen=True)
class MemoryState:
    """A memory as it was before or after a change."""

    content: str
    metadata: Metadata
    expires_at: Optional[datetime] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MemoryState":
        return cls(
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            expires_at=parse_time(data["expires_at"]) if data.get("expires_at") is not None else None,
        )


@dataclass(frozen=True)
class MemoryChange:
    """One entry of a memory's history."""

    #: position in the collection's change log (gap-free, in commit order, over all its memories)
    seq: int
    op: ChangeOp
    #: when the change was committed
    at: datetime
    #: the `sub` of whoever made it (an API key's owner); None for `expire`
    by: Optional[str]
    #: the memory before (None for `create`) and after (None for `delete` and `expire`)
    old: Optional[MemoryState]
    new: Optional[MemoryState]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MemoryChange":
        return cls(
            seq=int(data["seq"]),
            op=data["op"],
            at=parse_time(data["at"]),
            by=data.get("by"),
            old=MemoryState.from_json(data["old"]) if data.get("old") is not None else None,
            new=MemoryState.from_json(data["new"]) if data.get("new") is not None else None,
        )


@dataclass(frozen=True)
class MemoryHistoryPage:
    """One page of a memory's history, oldest first; `next_cursor` (newer entries) is None at the end."""

    memory_id: str
    history: List[MemoryChange]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[MemoryChange]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MemoryHistoryPage":
        return cls(
            memory_id=data["memory_id"],
            history=[MemoryChange.from_json(c) for c in data["history"]],
            next_cursor=data.get("next_cursor"),
        )


@dataclass(frozen=True)
class BulkDeleteResult:
    """One call of a bulk delete: what it picked (at most its `limit`, oldest first) and deleted."""

    dry_run: bool
    #: memories this call picked: those it deleted, or in a dry run those it would delete
    matched: int
    #: memories deleted: `matched`, or 0 in a dry run
    deleted: int
    ids: List[str]
    #: more memories match beyond `limit`: call again (with the same arguments) until False
    has_more: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "BulkDeleteResult":
        return cls(
            dry_run=bool(data["dry_run"]),
            matched=int(data["matched"]),
            deleted=int(data["deleted"]),
            ids=list(data["ids"]),
            has_more=bool(data["has_more"]),
        )


@dataclass(frozen=True)
class ImportLineError:
    """A line an import did not write, numbered from 1 across everything given to `import_memories`."""

    line: int
    detail: str
    #: the field at fault, when one is (e.g. `content`, `metadata.tags`)
    field: Optional[str] = None


@dataclass(frozen=True)
class ImportProgress:
    """Passed to `import_memories`' `on_progress` after each batch the server wrote."""

    imported: int
    failed: int


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, over all its requests."""

    #: memories written
    imported: int
    #: bad lines, not written (all counted; `errors` lists the first 1,000 of each request)
    failed: int
    #: lines sent (one a memory given)
    lines: int
    #: lines the server skipped (blank, or an export's checkpoint)
    skipped: int
    errors: List[ImportLineError]
    #: requests the import was split into (each under `max_body_bytes`)
    requests: int


@dataclass(frozen=True)
class SearchResult:
    id: str
    content: str
    metadata: Metadata
    #: cosine similarity (semantic), BM25 (keyword), RRF (hybrid), graph score, or the
    #: premium blend (in [0, 1]) when reranked.
    score: float
    created_at: datetime
    #: graph search: entity, RELATION, entity, ... that led to this memory.
    path: Optional[List[str]] = None
    #: when the memory expires; None: never
    expires_at: Optional[datetime] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SearchResult":
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            score=float(data["score"]),
            created_at=parse_time(data["created_at"]),
            path=list(data["path"]) if data.get("path") is not None else None,
            expires_at=parse_time(data["expires_at"]) if data.get("expires_at") is not None else None,
        )


@dataclass(frozen=True)
class SearchResponse:
    results: List[SearchResult]
    search_type: str
    top_k: int
    #: served from the cache (still read-your-writes: any write to the collection invalidates it)
    cached: bool
    reranked: bool
    took_ms: float
    #: why `rerank=True` was not honoured: `reranker_busy`, `reranker_not_configured`.
    rerank_reason: Optional[str] = None
    #: with `min_score`: how many of the `top_k` best scored below it and were left out
    #: (`results` empty and this above 0: nothing passed); None without `min_score`.
    below_min_score: Optional[int] = None

    def __iter__(self) -> Iterator[SearchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SearchResponse":
        return cls(
            results=[SearchResult.from_json(r) for r in data["results"]],
            search_type=data["search_type"],
            top_k=int(data["top_k"]),
            cached=bool(data["cached"]),
            reranked=bool(data["reranked"]),
            took_ms=float(data["took_ms"]),
            rerank_reason=data.get("rerank_reason"),
            below_min_score=int(data["below_min_score"]) if data.get("below_min_score") is not None else None,
        )


@dataclass(frozen=True)
class Entity:
    """A node of a collection's knowledge graph; `name` is its normal form (lower case)."""

    name: str
    display: str
    type: str
    mentions: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Entity":
        return cls(name=data["name"], display=data["display"], type=data["type"], mentions=int(data["mentions"]))


@dataclass(frozen=True)
class EntityPage:
    entities: List[Entity]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntityPage":
        return cls(entities=[Entity.from_json(e) for e in data["entities"]], next_cursor=data.get("next_cursor"))


@dataclass(frozen=True)
class Neighbour:
    name: str
    display: str
    type: str
    relation: str
    #: `out` (entity → neighbour), `in`, or `both`
    direction: str
    weight: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Neighbour":
        return cls(
            name=data["name"],
            display=data["display"],
            type=data["type"],
            relation=data["relation"],
            direction=data["direction"],
            weight=float(data["weight"]),
        )


@dataclass(frozen=True)
class EntityMemory:
    """A memory that mentions an entity."""

    id: str
    content: str
    metadata: Metadata
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntityMemory":
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            created_at=parse_time(data["created_at"]),
        )


@dataclass(frozen=True)
class EntityDetail:
    """An entity with its neighbours (and relations) and the memories that mention it (50 each at most)."""

    entity: Entity
    neighbours: List[Neighbour]
    memories: List[EntityMemory]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntityDetail":
        return cls(
            entity=Entity.from_json(data["entity"]),
            neighbours=[Neighbour.from_json(n) for n in data["neighbours"]],
            memories=[EntityMemory.from_json(m) for m in data["memories"]],
        )


@dataclass(frozen=True)
class Health:
    status: str
    version: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Health":
        return cls(status=data["status"], version=data["version"])


@dataclass(frozen=True)
class DependencyState:
    name: str
    ready: bool
    optional: bool = False
    latency_ms: Optional[float] = None
    detail: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "DependencyState":
        latency = data.get("latency_ms")
        return cls(
            name=data["name"],
            ready=bool(data["ready"]),
            optional=bool(data.get("optional", False)),
            latency_ms=float(latency) if latency is not None else None,
            detail=data.get("detail"),
        )


@dataclass(frozen=True)
class Readiness:
    """`/ready`: `ready`, `degraded` (an optional dependency is down) or `not_ready` (a 503)."""

    status: str
    dependencies: List[DependencyState] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.status != "not_ready"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Readiness":
        return cls(status=data["status"], dependencies=[DependencyState.from_json(d) for d in data.get("dependencies", [])])


# --- webhooks ------------------------------------------------------------------------------

WebhookEventType = Literal["memory.created", "memory.replaced", "memory.patched", "memory.deleted", "memory.expired"]
"""The change events a webhook can receive: `memory.replaced` is an upsert over an existing
memory, `memory.expired` a memory whose `expires_at` passed."""


@dataclass(frozen=True)
class Webhook:
    """A collection's webhook and its delivery state."""

    id: str
    collection_id: str
    url: str
    #: the event types it receives; empty: every type
    events: List[str]
    description: Optional[str]
    #: False while paused, or once delivery gave up (`disabled_reason` says why)
    enabled: bool
    disabled_reason: Optional[str]
    #: the collection's change-log position delivered so far (a `MemoryChange.seq`)
    delivered_seq: int
    #: failed attempts in a row at the pending delivery
    failures: int
    #: when the next retry is due, while backing off
    next_attempt_at: Optional[datetime]
    created_at: datetime
    updated_at: datetime
    #: the signing secret: only in the answer of `create_webhook` and of
    #: `update_webhook(..., rotate_secret=True)` (never shown again); None otherwise
    secret: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Webhook":
        return cls(
            id=data["id"],
            collection_id=data["collection_id"],
            url=data["url"],
            events=list(data.get("events") or []),
            description=data.get("description"),
            enabled=bool(data["enabled"]),
            disabled_reason=data.get("disabled_reason"),
            delivered_seq=int(data["delivered_seq"]),
            failures=int(data["failures"]),
            next_attempt_at=parse_time(data["next_attempt_at"]) if data.get("next_attempt_at") is not None else None,
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            secret=data.get("secret"),
        )


@dataclass(frozen=True)
class WebhookTestResult:
    """How the receiver answered a test delivery (`test_webhook`); recorded in the delivery log too."""

    delivery_id: str
    #: the receiver answered 2xx
    delivered: bool
    #: the receiver's HTTP status; None when it gave none (refused, timed out)
    status_code: Optional[int]
    duration_ms: int
    error: Optional[str]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "WebhookTestResult":
        return cls(
            delivery_id=data["delivery_id"],
            delivered=bool(data["delivered"]),
            status_code=int(data["status_code"]) if data.get("status_code") is not None else None,
            duration_ms=int(data["duration_ms"]),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt of the delivery log."""

    #: the `Memory-Delivery-Id` header of that attempt
    id: str
    #: `events` (changes of the collection) or `test`
    kind: str
    at: datetime
    #: the change-log positions it carried (None for a test)
    first_seq: Optional[int]
    last_seq: Optional[int]
    event_count: int
    #: 1 for the first attempt at these events, then 2, 3, ...
    attempt: int
    status_code: Optional[int]
    succeeded: bool
    duration_ms: int
    error: Optional[str]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "WebhookDelivery":
        def optional_int(key: str) -> Optional[int]:
            return int(data[key]) if data.get(key) is not None else None

        return cls(
            id=data["id"],
            kind=data["kind"],
            at=parse_time(data["at"]),
            first_seq=optional_int("first_seq"),
            last_seq=optional_int("last_seq"),
            event_count=int(data["event_count"]),
            attempt=int(data["attempt"]),
            status_code=optional_int("status_code"),
            succeeded=bool(data["succeeded"]),
            duration_ms=int(data["duration_ms"]),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class WebhookDeliveryPage:
    """One page of a webhook's delivery log, newest first; `next_cursor` (older ones) is None at the end."""

    deliveries: List[WebhookDelivery]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[WebhookDelivery]:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "WebhookDeliveryPage":
        return cls(deliveries=[WebhookDelivery.from_json(d) for d in data["deliveries"]], next_cursor=data.get("next_cursor"))
