/**
 * Attack (by accident, the usual way): a client retries a write whose answer it did not get, a
 * POST without ids that timed out (503) or lost its connection, and every retry stored the
 * memories again under new ids (issue 18, item 10). `Idempotency-Key` makes a retry get the
 * first answer: same key + same user + same body within the retention window.
 *
 * Concurrency is made deterministic with a gate in the embedder: the first request is held
 * inside its write while the duplicate arrives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { around } from "./spy";

const batch = (n: number, tag: string) => ({ memories: Array.from({ length: n }, (_, i) => ({ content: `${tag} note ${i}` })) });

/** Holds the next document embedding until opened; `arrived` resolves when one is held. */
function embeddingGate() {
  let held: { opened: Promise<void>; reached: () => void } | null = null;
  return {
    arm() {
      let open!: () => void;
      let reached!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const arrived = new Promise<void>((r) => (reached = r));
      held = { opened, reached };
      return { arrived, open };
    },
    async wait() {
      const h = held;
      if (h === null) return;
      held = null;
      h.reached();
      await h.opened;
    },
  };
}

describe("Idempotency-Key", () => {
  let t: TestApp;
  let token: string;
  const gate = embeddingGate();

  beforeAll(async () => {
    t = await createTestApp({
      requestTimeoutMs: 1500,
      wrap: {
        embedder: (inner) =>
          around(inner, "embed", async (embed, texts, kind) => {
            if (kind === "document") await gate.wait();
            return embed(texts, kind);
          }),
      },
    });
    token = await t.token(`retrier-${crypto.randomUUID()}`);
  });
  afterAll(() => t.close());

  const post = (collection: string, body: unknown, key?: string, as = token) =>
    t.call("POST", `/v1/collections/${collection}/memories`, { token: as, body, headers: key ? { "idempotency-key": key } : {} });
  const count = async (collection: string) =>
    (await t.call("GET", `/v1/collections/${collection}/memories?limit=1000`, { token })).body.memories.length as number;

  test("without a key, a retry writes again (what the key is for)", async () => {
    const collection = await newCollection(t, token);
    await post(collection, batch(3, "plain"));
    await post(collection, batch(3, "plain"));
    expect(await count(collection)).toBe(6);
  });

  test("a retry with the same key and body gets the first answer and writes nothing", async () => {
    const collection = await newCollection(t, token);
    const key = crypto.randomUUID();
    const first = await post(collection, batch(3, "once"), key);
    const retry = await post(collection, batch(3, "once"), key);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await count(collection)).toBe(3);
  });

  test("the same key with another body is a 409 problem naming the header", async () => {
    const collection = await newCollection(t, token);
    const key = crypto.randomUUID();
    expect((await post(collection, batch(2, "first"), key)).status).toBe(201);
    const other = await post(collection, batch(2, "second"), key);
    expect(other.status).toBe(409);
    expect(other.headers.get("content-type")).toStartWith("application/problem+json");
    expect(other.body.field).toBe("headers.idempotency-key");
    expect(other.body.detail).toContain("different request");
    // another collection is another request too
    const elsewhere = await post(await newCollection(t, token), batch(2, "first"), key);
    expect(elsewhere.status).toBe(409);
    expect(await count(collection)).toBe(2);
  });

  test("once what a key created is deleted, its retry runs as a new request", async () => {
    const key = crypto.randomUUID();
    const body = { name: `deleted-${key}` };
    const create = () => t.call("POST", "/v1/collections", { token, body, headers: { "idempotency-key": key } });
    const first = await create();
    expect((await t.call("DELETE", `/v1/collections/${first.body.id}`, { token })).status).toBe(204);
    const again = await create();
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    expect((await t.call("GET", `/v1/collections/${again.body.id}`, { token })).status).toBe(200);

    const collection = await newCollection(t, token);
    const memoriesKey = crypto.randomUUID();
    const added = await post(collection, batch(2, "gone"), memoriesKey);
    expect((await t.call("DELETE", `/v1/collections/${collection}/memories/${added.body.ids[0]}`, { token })).status).toBe(204);
    const readded = await post(collection, batch(2, "gone"), memoriesKey);
    expect(readded.status).toBe(201);
    expect(readded.headers.get("idempotent-replayed")).toBeNull();
    expect(await count(collection)).toBe(3);
  });

  test("keys belong to their user: another user's same key is another request", async () => {
    const other = await t.token(`other-${crypto.randomUUID()}`);
    const mine = await newCollection(t, token);
    const theirs = await newCollection(t, other);
    const key = "shared-key-1";
    expect((await post(mine, batch(1, "mine"), key)).status).toBe(201);
    expect((await post(theirs, batch(1, "mine"), key, other)).status).toBe(201);
  });

  test("a duplicate arriving while the first runs is a 409 with Retry-After, then gets the first answer", async () => {
    const collection = await newCollection(t, token);
    const key = crypto.randomUUID();
    const held = gate.arm();
    const first = post(collection, batch(4, "held"), key);
    await held.arrived;
    const duplicate = await post(collection, batch(4, "held"), key);
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get("retry-after")).toBe("1");
    held.open();
    const answered = await first;
    expect(answered.status).toBe(201);
    const retry = await post(collection, batch(4, "held"), key);
    expect(retry.body).toEqual(answered.body);
    expect(await count(collection)).toBe(4);
  });

  test("concurrent duplicates: exactly one writes", async () => {
    const collection = await newCollection(t, token);
    const key = crypto.randomUUID();
    const replies = await Promise.all(Array.from({ length: 6 }, () => post(collection, batch(5, "race"), key)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThan(0);
    for (const r of created) expect(r.body).toEqual(created[0]!.body);
    expect(await count(collection)).toBe(5);
  });

  test("a write that timed out (503) and is retried is not written twice", async () => {
    const collection = await newCollection(t, token);
    const key = crypto.randomUUID();
    const held = gate.arm();
    const first = post(collection, batch(3, "slow"), key);
    await held.arrived;
    const timedOut = await first; // the request timeout answers while the write is held
    expect(timedOut.status).toBe(503);
    expect((await post(collection, batch(3, "slow"), key)).status).toBe(409); // still running
    held.open();
    let retry = await post(collection, batch(3, "slow"), key);
    for (let i = 0; i < 100 && retry.status === 409; i++) {
      await Bun.sleep(20);
      retry = await post(collection, batch(3, "slow"), key);
    }
    expect(retry.status).toBe(201);
    expect(retry.body.ids).toHaveLength(3);
    expect(await count(collection)).toBe(3);
  });

  test("a write that fails releases its key", async () => {
    const doomed = await newCollection(t, token);
    const key = crypto.randomUUID();
    const held = gate.arm();
    const first = post(doomed, batch(1, "lost"), key);
    await held.arrived;
    expect((await t.call("DELETE", `/v1/collections/${doomed}`, { token })).status).toBe(204);
    held.open();
    expect((await first).status).toBe(404); // the collection went away under the write
    // nothing was kept under the key: it is free for another request (not a 409)
    const collection = await newCollection(t, token);
    expect((await post(collection, batch(1, "lost"), key)).status).toBe(201);
  });

  test("POST /v1/collections: a retry gets the same collection, not a 409 for its own name", async () => {
    const key = crypto.randomUUID();
    const body = { name: `once-${key}` };
    const first = await t.call("POST", "/v1/collections", { token, body, headers: { "idempotency-key": key } });
    const retry = await t.call("POST", "/v1/collections", { token, body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
  });

  test("an invalid key is a 422 naming the header", async () => {
    const reply = await t.call("POST", "/v1/collections", { token, body: { name: "x" }, headers: { "idempotency-key": "has space" } });
    expect(reply.status).toBe(422);
    expect(reply.body.field).toBe("headers.idempotency-key");
  });
});

describe("Idempotency-Key retention", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ idempotencyRetentionSeconds: 1 });
  });
  afterAll(() => t.close());

  test("after the retention window the key is free again", async () => {
    const token = await t.token(`retention-${crypto.randomUUID()}`);
    const collection = await newCollection(t, token);
    const post = () => t.call("POST", `/v1/collections/${collection}/memories`, { token, body: batch(1, "kept"), headers: { "idempotency-key": "k" } });
    const first = await post();
    expect((await post()).body).toEqual(first.body);
    await Bun.sleep(1100);
    const later = await post();
    expect(later.status).toBe(201);
    expect(later.body).not.toEqual(first.body);
  });
});
