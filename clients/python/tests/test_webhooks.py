"""Webhooks: registered, tested, rotated, logged and deleted through both clients against the
running server, delivering to a receiver on 127.0.0.1 started here (the test server allows
loopback targets); and `verify_webhook_signature` on what that receiver got."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional

import pytest

from helpers import eventually
from memory_api import (
    AsyncMemoryClient,
    Collection,
    MemoryClient,
    NotFound,
    ValidationError,
    verify_webhook_signature,
    webhook_signature,
)

SIGNED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclasses.dataclass(frozen=True)
class Received:
    #: header names in lower case
    headers: Dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver on 127.0.0.1 (a thread): records each POST as it arrived, answers 200."""

    def __init__(self) -> None:
        self.received: List[Received] = []
        received, lock = self.received, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/memory"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def of_type(self, type: str) -> List[Received]:
        return [r for r in list(self.received) if r.json.get("type") == type]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.stop()


# --- the signature, offline --------------------------------------------------------------------


def test_the_signature_is_the_servers() -> None:
    # computed by the server's own signPayload (src/webhooks/signature.ts) for the same input
    body = '{"type":"webhook.test","événements":[]}'
    header = webhook_signature("whsec_test", body, SIGNED_AT)
    assert header == f"t={SIGNED_AT},v1=da88eb80009660219acb7246a392f132418dd91e9e3ff221882fb9c29f4bc6c2"
    assert header == webhook_signature("whsec_test", body.encode("utf-8"), SIGNED_AT)


def test_verify_accepts_only_a_fresh_signature_of_this_body_with_this_secret() -> None:
    body = b'{"type":"memory.changes","events":[]}'
    header = webhook_signature("whsec_a", body, SIGNED_AT)
    v1 = header.split("v1=")[1]
    assert verify_webhook_signature("whsec_a", body, header, now=SIGNED_AT)
    assert verify_webhook_signature("whsec_a", body.decode(), header, now=SIGNED_AT + 300)
    assert verify_webhook_signature("whsec_a", body, header, now=SIGNED_AT - 300)
    # too old (a replay), or from too far ahead
    assert not verify_webhook_signature("whsec_a", body, header, now=SIGNED_AT + 301)
    assert not verify_webhook_signature("whsec_a", body, header, now=SIGNED_AT - 301)
    assert verify_webhook_signature("whsec_a", body, header, tolerance_seconds=3600, now=SIGNED_AT + 3000)
    # another body, secret or time
    assert not verify_webhook_signature("whsec_a", body + b" ", header, now=SIGNED_AT)
    assert not verify_webhook_signature("whsec_b", body, header, now=SIGNED_AT)
    assert not verify_webhook_signature("whsec_a", body, f"t={SIGNED_AT + 1},v1={v1}", now=SIGNED_AT)
    # any one of several v1 entries may match (as while a secret changes), in any order, spaces allowed
    other = webhook_signature("whsec_old", body, SIGNED_AT).split("v1=")[1]
    assert verify_webhook_signature("whsec_a", body, f"v1={other}, t={SIGNED_AT}, v1={v1}", now=SIGNED_AT)
    assert not verify_webhook_signature("whsec_a", body, f"t={SIGNED_AT},v1={other}", now=SIGNED_AT)
    # malformed: False, never an exception
    for bad in [None, "", "garbage", f"t={SIGNED_AT}", f"v1={v1}", f"t=soon,v1={v1}", f"t={SIGNED_AT},v1={v1.upper()}",
                f"t={SIGNED_AT},v1={v1[:-2]}", f"t={SIGNED_AT},v0={v1}", f"t=-{SIGNED_AT},v1={v1}"]:
        assert not verify_webhook_signature("whsec_a", body, bad, now=SIGNED_AT), bad


# --- against the server ------------------------------------------------------------------------


def _signature(request: Received) -> Optional[str]:
    return request.headers.get("memory-signature")


def test_register_test_deliver_rotate_log_and_delete(client: MemoryClient, collection: Collection, receiver: Receiver) -> None:
    created = client.create_webhook(collection.id, receiver.url, events=["memory.created"], description="py receiver")
    assert created.url == receiver.url and created.collection_id == collection.id
    assert created.events == ["memory.created"] and created.description == "py receiver"
    assert created.enabled and created.disabled_reason is None and created.failures == 0 and created.next_attempt_at is None
    assert created.secret is not None and created.secret.startswith("whsec_")
    assert created.created_at.tzinfo is not None
    # the secret is shown once: never by get or list
    fetched = client.get_webhook(collection.id, created.id)
    assert fetched == dataclasses.replace(created, secret=None)
    assert client.list_webhooks(collection.id) == [fetched]

    # a test delivery, signed with the secret
    tested = client.test_webhook(collection.id, created.id)
    assert tested.delivered and tested.status_code == 200 and tested.error is None and tested.duration_ms >= 0
    [ping] = receiver.of_type("webhook.test")
    assert ping.headers["memory-webhook-id"] == created.id
    assert ping.headers["memory-delivery-id"] == tested.delivery_id
    assert ping.json["webhook_id"] == created.id and ping.json["collection_id"] == collection.id and ping.json["events"] == []
    assert verify_webhook_signature(created.secret, ping.body, _signature(ping))
    assert not verify_webhook_signature(created.secret, ping.body.replace(b"webhook.test", b"webhook.tost"), _signature(ping))
    assert not verify_webhook_signature("whsec_someone-else", ping.body, _signature(ping))

    # a change of the collection is delivered from its change log, signed the same way
    memory_id = client.add_memory(collection.id, "The webhook should hear about this one.")
    eventually("the memory.created delivery", lambda: len(receiver.of_type("memory.changes")) > 0, timeout=30)
    [changes] = receiver.of_type("memory.changes")
    assert verify_webhook_signature(created.secret, changes.body, _signature(changes))
    [event] = changes.json["events"]
    assert (event["type"], event["memory_id"], event["new"]["content"]) == (
        "memory.created",
        memory_id,
        "The webhook should hear about this one.",
    )
    eventually("the cursor moved past it", lambda: client.get_webhook(collection.id, created.id).delivered_seq >= event["seq"])

    # rotate the secret (and change other fields): from then on deliveries verify only with the new one
    rotated = client.update_webhook(collection.id, created.id, rotate_secret=True, description=None, events=[])
    assert rotated.secret is not None and rotated.secret.startswith("whsec_") and rotated.secret != created.secret
    assert rotated.description is None and rotated.events == [] and rotated.url == receiver.url
    assert client.get_webhook(collection.id, created.id).secret is None
    second = client.test_webhook(collection.id, created.id)
    assert second.delivered
    pong = receiver.of_type("webhook.test")[-1]
    assert pong.headers["memory-delivery-id"] == second.delivery_id
    assert verify_webhook_signature(rotated.secret, pong.body, _signature(pong))
    assert not verify_webhook_signature(created.secret, pong.body, _signature(pong))

    paused = client.update_webhook(collection.id, created.id, enabled=False)
    assert not paused.enabled and paused.secret is None
    with pytest.raises(ValidationError):
        client.update_webhook(collection.id, created.id)

    # the delivery log, newest first, a page at a time
    log = list(client.iter_webhook_deliveries(collection.id, created.id, page_size=1))
    assert [(d.id, d.kind) for d in log] == [
        (second.delivery_id, "test"),
        (changes.headers["memory-delivery-id"], "events"),
        (tested.delivery_id, "test"),
    ]
    assert all(d.succeeded and d.status_code == 200 and d.error is None and d.attempt == 1 for d in log)
    assert log[1].event_count == 1 and log[1].first_seq == log[1].last_seq == event["seq"]
    assert log[0].event_count == 0 and log[0].first_seq is None
    assert [d.at for d in log] == sorted((d.at for d in log), reverse=True)
    first_page = client.list_webhook_deliveries(collection.id, created.id, limit=2)
    assert [d.id for d in first_page] == [d.id for d in log[:2]] and first_page.next_cursor is not None
    rest = client.list_webhook_deliveries(collection.id, created.id, cursor=first_page.next_cursor)
    assert [d.id for d in rest] == [log[2].id] and rest.next_cursor is None

    client.delete_webhook(collection.id, created.id)
    assert client.list_webhooks(collection.id) == []
    with pytest.raises(NotFound):
        client.get_webhook(collection.id, created.id)
    with pytest.raises(NotFound):
        client.delete_webhook(collection.id, created.id)
    with pytest.raises(NotFound):
        list(client.iter_webhook_deliveries(collection.id, created.id))


def test_refusals(client: MemoryClient, collection: Collection, base_url: str, tokens: "dict[str, str]") -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_webhook(collection.id, "ftp://example.com/hook")
    assert caught.value.field == "url"
    with pytest.raises(ValidationError):
        client.create_webhook(collection.id, "https://example.com/hook", events=["memory.renamed"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        client.create_webhook(collection.id, "https://example.com/hook", events="memory.created")  # type: ignore[arg-type]
    hook = client.create_webhook(collection.id, "https://example.com/hook")
    assert hook.events == [] and hook.description is None
    # another user sees neither the collection nor its webhooks
    with MemoryClient(base_url, tokens["other"], timeout=60) as other:
        with pytest.raises(NotFound):
            other.list_webhooks(collection.id)
        with pytest.raises(NotFound):
            other.get_webhook(collection.id, hook.id)
    with pytest.raises(NotFound):
        client.get_webhook(collection.id, f"no-such-{uuid.uuid4()}")
    client.delete_webhook(collection.id, hook.id)


def test_async_client(base_url: str, token: str, collection: Collection, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with AsyncMemoryClient(base_url, token, timeout=60) as api:
            created = await api.create_webhook(collection.id, receiver.url, description="async receiver")
            assert created.secret and created.events == []
            assert await api.list_webhooks(collection.id) == [dataclasses.replace(created, secret=None)]
            assert await api.get_webhook(collection.id, created.id) == dataclasses.replace(created, secret=None)

            tested = await api.test_webhook(collection.id, created.id)
            assert tested.delivered and tested.status_code == 200
            [ping] = receiver.of_type("webhook.test")
            assert verify_webhook_signature(created.secret, ping.body, _signature(ping))
            assert not verify_webhook_signature(created.secret, ping.body + b"\n", _signature(ping))

            rotated = await api.update_webhook(collection.id, created.id, rotate_secret=True, enabled=False)
            assert rotated.secret and rotated.secret != created.secret and not rotated.enabled
            # a paused webhook still takes a test delivery, signed with the new secret
            again = await api.test_webhook(collection.id, created.id)
            assert again.delivered
            assert verify_webhook_signature(rotated.secret, receiver.of_type("webhook.test")[-1].body, _signature(receiver.of_type("webhook.test")[-1]))

            page = await api.list_webhook_deliveries(collection.id, created.id, limit=1)
            assert [d.id for d in page] == [again.delivery_id] and page.next_cursor is not None
            log = [d.id async for d in api.iter_webhook_deliveries(collection.id, created.id, page_size=1)]
            assert log == [again.delivery_id, tested.delivery_id]

            await api.delete_webhook(collection.id, created.id)
            assert await api.list_webhooks(collection.id) == []
            with pytest.raises(NotFound):
                await api.get_webhook(collection.id, created.id)

    asyncio.run(scenario())
