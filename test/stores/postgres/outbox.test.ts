import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { createLogger, type Logger } from "../../../src/log.ts";
import { openPostgresStores, type PostgresStoreOptions, type PostgresStores } from "../../../src/stores/postgres/index.ts";
import type { Memory, MemoryWrite } from "../../../src/domain/memory.ts";
import type { IndexedMemory, IndexWriter } from "../../../src/ports/index-writer.ts";
import { productionConfig, servicesAvailable } from "../../support/services.ts";
import { DependencyUnavailableError } from "../../../src/domain/errors.ts";
import { RUN_ID } from "../service-setup.ts";

/**
 * The transactional outbox's own logic, with a recording IndexWriter that can fail, hang or be
 * slow. (The real Milvus / Neo4j writers are tested against the real services elsewhere.)
 */

const URL = productionConfig.databaseUrl;
const SCHEMA = `outbox_${RUN_ID}`;
const DIMENSIONS = 8;
const MARKER = "TOPSECRETCONTENT";

/** What a set of recording writers shares: the derived index and the concurrency bookkeeping. */
class SharedIndex {
  readonly memories = new Map<string, IndexedMemory>();
  readonly deletedCollections = new Set<string>();
  readonly deliveries = new Map<string, number>();
  readonly inflight = new Set<string>();
  readonly overlaps: string[] = [];
}

class RecordingWriter implements IndexWriter {
  readonly name = "recorder";
  failing = false;
  /** Contents the index refuses (a poison row: the writer works, this row never will). */
  readonly poison = new Set<string>();
  /** Milliseconds each call takes (a slow index). */
  delayMs = 0;
  calls = 0;
  failedCalls = 0;
  delivered = 0;

  constructor(readonly shared = new SharedIndex()) {}

  private async call(keys: string[], apply: () => void): Promise<void> {
    this.calls++;
    for (const key of keys) {
      if (this.shared.inflight.has(key)) this.shared.overlaps.push(key);
      this.shared.inflight.add(key);
    }
    try {
      if (this.delayMs > 0) await Bun.sleep(this.delayMs);
      if (this.failing) {
        this.failedCalls++;
        throw new DependencyUnavailableError("recorder");
      }
      apply();
      this.delivered += keys.length;
      for (const key of keys) this.shared.deliveries.set(key, (this.shared.deliveries.get(key) ?? 0) + 1);
    } finally {
      for (const key of keys) this.shared.inflight.delete(key);
    }
  }

  upsert(items: IndexedMemory[]): Promise<void> {
    const bad = items.find((m) => this.poison.has(m.content));
    if (bad !== undefined) {
      this.calls++;
      return Promise.reject(new Error(`the index refuses memory ${bad.id}`));
    }
    return this.call(
      items.map((m) => `${m.collection_id}/${m.id}`),
      () => {
        for (const m of items) this.shared.memories.set(`${m.collection_id}/${m.id}`, m);
      },
    );
  }

  delete(collectionId: string, ids: string[]): Promise<void> {
    return this.call(
      ids.map((id) => `${collectionId}/${id}`),
      () => {
        for (const id of ids) this.shared.memories.delete(`${collectionId}/${id}`);
      },
    );
  }

  deleteCollection(collectionId: string): Promise<void> {
    return this.call([`collection:${collectionId}`], () => {
      this.shared.deletedCollections.add(collectionId);
      for (const key of [...this.shared.memories.keys()]) {
        if (key.startsWith(`${collectionId}/`)) this.shared.memories.delete(key);
      }
    });
  }

  /** The index's memories of one collection, by id. */
  collection(collectionId: string): Map<string, IndexedMemory> {
    const out = new Map<string, IndexedMemory>();
    for (const m of this.shared.memories.values()) if (m.collection_id === collectionId) out.set(m.id, m);
    return out;
  }
}

function vector(seed: number): Float32Array {
  const v = new Float32Array(DIMENSIONS);
  for (let i = 0; i < DIMENSIONS; i++) v[i] = Math.sin(seed * 7.1 + i);
  return v;
}

function item(id: string, content: string, seed: number, metadata: Record<string, unknown> = {}): MemoryWrite {
  return { id, content, metadata, embedding: vector(seed) };
}

async function allMemories(stores: PostgresStores, collectionId: string): Promise<Memory[]> {
  const out: Memory[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await stores.memories.list(collectionId, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    if (page.next_cursor === null) return out;
    cursor = page.next_cursor;
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await Bun.sleep(20);
  }
  return condition();
}

const run = await servicesAvailable("postgres outbox", ["postgres"]);

describe.if(run)("postgres transactional outbox", () => {
  const opened: PostgresStores[] = [];
  let admin: pg.Client;
  const logs: string[] = [];
  const log: Logger = createLogger("debug", (line) => logs.push(line));

  async function open(
    writer: RecordingWriter,
    extra: Partial<PostgresStoreOptions> = {},
  ): Promise<PostgresStores> {
    const stores = await openPostgresStores({
      url: URL,
      schema: SCHEMA,
      poolSize: 8,
      log,
      writers: [writer],
      dimensions: DIMENSIONS,
      outbox: { pollMs: 20, baseBackoffMs: 20, maxBackoffMs: 200 },
      ...extra,
    });
    opened.push(stores);
    return stores;
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: URL, options: `-c search_path=${SCHEMA}` });
    await admin.connect();
  });

  // Every test's stores are closed after it: any open dispatcher with a "recorder" writer would
  // otherwise deliver the next test's rows.
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  test("with a healthy writer every write is in the index when it resolves", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer);
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "healthy", description: null });

    await stores.memories.upsert(c.id, [item("a", "alpha", 1, { n: 1 }), item("b", "bravo", 2)]);
    let index = writer.collection(c.id);
    expect([...index.keys()].sort()).toEqual(["a", "b"]);
    const a = index.get("a")!;
    const stored = (await stores.memories.get(c.id, "a"))!;
    expect(a).toMatchObject({ collection_id: c.id, id: "a", content: "alpha", metadata: { n: 1 }, created_at: stored.created_at });
    expect([...a.embedding]).toEqual([...vector(1)]);

    await stores.memories.upsert(c.id, [item("a", "alpha two", 3)]);
    expect(writer.collection(c.id).get("a")?.content).toBe("alpha two");
    await stores.memories.patch(c.id, "b", { metadata: { patched: true } });
    expect(writer.collection(c.id).get("b")?.metadata).toEqual({ patched: true });
    await stores.memories.patch(c.id, "b", { content: "bravo two", embedding: vector(4) });
    index = writer.collection(c.id);
    expect(index.get("b")?.content).toBe("bravo two");
    expect([...index.get("b")!.embedding]).toEqual([...vector(4)]);

    expect(await stores.memories.delete(c.id, "a")).toBe(true);
    expect([...writer.collection(c.id).keys()]).toEqual(["b"]);

    expect(await stores.collections.delete(c.owner, c.id)).toBe(true);
    expect(writer.shared.deletedCollections.has(c.id)).toBe(true);
    expect(writer.collection(c.id).size).toBe(0);
    expect(await stores.outbox.backlog()).toEqual({ recorder: 0 });
  });

  test("a poison row: its batch is split so the others are delivered at once; after maxAttempts it is dead-lettered, then replayed", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { outbox: { dispatch: false, maxAttempts: 3 } });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "poison", description: null });
    writer.poison.add("bad");
    const other = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "other tenant", description: null });
    await stores.memories.upsert(c.id, [item("a", "alpha", 1), item("b", "bad", 2), item("c", "charlie", 3), item("d", "delta", 4), item("e", "echo", 5)]);
    await stores.memories.upsert(other.id, [item("x", "x-ray", 6)]);
    // the write's own immediate delivery sent the five as one batch: it was split, so only the bad row is left
    expect([...writer.collection(c.id).keys()].sort()).toEqual(["a", "c", "d", "e"]);
    expect([...writer.collection(other.id).keys()]).toEqual(["x"]);
    expect(await stores.outbox.backlog()).toEqual({ recorder: 1 });
    expect(await stores.outbox.deadLetters()).toEqual({ recorder: 0 });

    expect(await stores.outbox.round("recorder", true)).toMatchObject({ claimed: 1, delivered: 0, failed: 1 }); // failure 2
    expect(await stores.outbox.deadLetters()).toEqual({ recorder: 0 });
    logs.length = 0;
    await stores.outbox.round("recorder", true); // failure 3 = maxAttempts
    expect(await stores.outbox.deadLetters()).toEqual({ recorder: 1 });
    expect(await stores.outbox.backlog()).toEqual({ recorder: 0 });
    expect(await stores.outbox.round("recorder", true)).toMatchObject({ claimed: 0 }); // no longer claimed
    expect(await stores.outbox.drain(1000)).toBe(true); // nor waited for
    const warning = logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith("outbox row dead-lettered"));
    expect(warning).toMatchObject({ level: "warn", target: "recorder", collection_id: c.id, memory_id: "b", failures: 3 });
    expect(warning.error).toContain("the index refuses memory b");

    // the cause is fixed; replay queues it again and it is delivered
    writer.poison.clear();
    expect(await stores.outbox.replay({ target: "recorder", collectionId: c.id })).toBe(1);
    expect(await stores.outbox.replay()).toBe(0);
    await stores.outbox.round("recorder", true);
    expect([...writer.collection(c.id).keys()].sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(await stores.outbox.deadLetters()).toEqual({ recorder: 0 });
    expect(await stores.outbox.backlog()).toEqual({ recorder: 0 });
  });

  test("reindex: an index that lost its data gets every memory's current state again, in batches, one collection or all", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { outbox: { dispatch: false } });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "reindex", description: null });
    const other = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "reindex other", description: null });
    await stores.memories.upsert(c.id, Array.from({ length: 23 }, (_, i) => item(`m${i}`, `memory ${i}`, i)));
    await stores.memories.upsert(other.id, [item("x", "x-ray", 99)]);
    await stores.memories.upsert(c.id, [item("m3", "memory 3, edited", 3)]);
    await stores.memories.delete(c.id, "m4");
    expect(await stores.outbox.drain(10_000)).toBe(true);
    writer.shared.memories.clear(); // the index lost everything

    const progress: number[] = [];
    expect(await stores.outbox.reindex("recorder", { collectionId: c.id, batchSize: 5, onProgress: (n) => progress.push(n) })).toBe(22);
    expect(progress).toEqual([5, 10, 15, 20, 22]);
    expect(await stores.outbox.backlog()).toEqual({ recorder: 22 });
    expect(await stores.outbox.drain(10_000)).toBe(true);
    const rebuilt = writer.collection(c.id);
    expect([...rebuilt.keys()].sort()).toEqual(Array.from({ length: 23 }, (_, i) => `m${i}`).filter((id) => id !== "m4").sort());
    expect(rebuilt.get("m3")!.content).toBe("memory 3, edited");
    expect(writer.collection(other.id).size).toBe(0); // only the collection asked for

    expect(await stores.outbox.reindex("recorder")).toBeGreaterThanOrEqual(23); // every collection (others of this schema too)
    expect(await stores.outbox.drain(10_000)).toBe(true);
    expect([...writer.collection(other.id).keys()]).toEqual(["x"]);
    await expect(stores.outbox.reindex("nonexistent")).rejects.toThrow('no index writer is named "nonexistent"');
  });

  test("a deferred target's pending rows of one collection are delivered on demand, batch after batch, and only that collection's", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { outbox: { dispatch: false, deferredTargets: ["recorder"], batchSize: 5 } });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "on demand", description: null });
    const other = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "on demand other", description: null });
    await stores.memories.upsert(c.id, Array.from({ length: 12 }, (_, i) => item(`m${i}`, `memory ${i}`, i)));
    await stores.memories.upsert(other.id, [item("x", "x-ray", 99)]);
    expect(writer.collection(c.id).size).toBe(0); // the write did not wait for it
    await stores.pendingWrites("recorder").deliver(c.id);
    expect(writer.collection(c.id).size).toBe(12);
    expect(writer.collection(other.id).size).toBe(0);
    expect(await stores.outbox.backlog()).toEqual({ recorder: 1 });

    writer.failing = true; // a writer that fails is backed off: the reader is not held by it
    await stores.memories.upsert(c.id, [item("late", "late", 100)]);
    await stores.pendingWrites("recorder").deliver(c.id);
    await stores.pendingWrites("recorder").deliver(c.id);
    expect(writer.failedCalls).toBe(1);
    expect(writer.collection(c.id).has("late")).toBe(false);
    writer.failing = false;
    expect(await stores.outbox.drain(10_000)).toBe(true); // nothing left for the tests after this one
  });

  test("a writer that is unavailable never dead-letters anything, however often it fails", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { outbox: { dispatch: false, maxAttempts: 2 } });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "down", description: null });
    writer.failing = true;
    await stores.memories.upsert(c.id, [item("a", "alpha", 1), item("b", "bravo", 2)]);
    const callsBefore = writer.calls;
    for (let i = 0; i < 5; i++) expect(await stores.outbox.round("recorder", true)).toMatchObject({ delivered: 0, failed: 2 });
    expect(writer.calls - callsBefore).toBe(5); // one call a round: an unavailable writer is not split
    expect(await stores.outbox.deadLetters()).toEqual({ recorder: 0 });
    expect(await stores.outbox.backlog()).toEqual({ recorder: 2 });
    writer.failing = false;
    await stores.outbox.round("recorder", true);
    expect([...writer.collection(c.id).keys()].sort()).toEqual(["a", "b"]);
  });

  test("while the writer fails writes still succeed; rows wait; after recovery all are delivered and the index matches", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { deliveryTimeoutMs: 1000 });
    const owner = `owner-${crypto.randomUUID()}`;
    const kept = await stores.collections.create(owner, { name: "kept", description: null });
    const doomed = await stores.collections.create(owner, { name: "doomed", description: null });
    writer.failing = true;

    let rowsExpected = 0;
    const started = performance.now();
    // 100 new memories in one batch, then updates, patches and deletes of some of them.
    await stores.memories.upsert(kept.id, Array.from({ length: 100 }, (_, i) => item(`m${i}`, `${MARKER} first ${i}`, i, { i })));
    rowsExpected += 100;
    for (let i = 0; i < 20; i++) {
      await stores.memories.upsert(kept.id, [item(`m${i}`, `${MARKER} second ${i}`, 1000 + i, { i, v: 2 })]);
      rowsExpected += 1;
    }
    for (let i = 20; i < 30; i++) {
      await stores.memories.patch(kept.id, `m${i}`, { content: `${MARKER} patched ${i}`, embedding: vector(2000 + i) });
      await stores.memories.patch(kept.id, `m${i}`, { metadata: { i, v: 3 } });
      rowsExpected += 2;
    }
    for (let i = 30; i < 45; i++) {
      expect(await stores.memories.delete(kept.id, `m${i}`)).toBe(true);
      rowsExpected += 1;
    }
    // Deleted, then written again: must end up present with the new content.
    await stores.memories.upsert(kept.id, [item("m30", `${MARKER} reborn`, 3000)]);
    rowsExpected += 1;
    await stores.memories.upsert(doomed.id, Array.from({ length: 10 }, (_, i) => item(`d${i}`, `${MARKER} doomed ${i}`, i)));
    rowsExpected += 10;
    expect(await stores.collections.delete(owner, doomed.id)).toBe(true);
    rowsExpected += 1;
    const elapsed = performance.now() - started;

    // Every write was acknowledged, none waited long for the broken writer, nothing reached it.
    expect(elapsed).toBeLessThan(5000);
    expect(writer.shared.memories.size).toBe(0);
    expect(writer.failedCalls).toBeGreaterThan(0);
    const backlog = (await stores.outbox.backlog()).recorder!;
    expect(backlog).toBe(rowsExpected);
    const { rows } = await admin.query(
      "SELECT min(attempts)::int AS min_attempts, max(attempts)::int AS max_attempts, count(last_error)::int AS with_error FROM outbox WHERE target = 'recorder'",
    );
    expect(rows[0].max_attempts).toBeGreaterThan(0);
    expect(rows[0].with_error).toBeGreaterThan(0);

    // Rows are retried with backoff while it stays down; still nothing lost.
    await Bun.sleep(300);
    expect((await stores.outbox.backlog()).recorder).toBe(rowsExpected);

    // Recovery: the dispatcher loop (not drain) delivers everything.
    writer.failing = false;
    stores.outbox.kick();
    expect(await waitFor(async () => (await stores.outbox.backlog()).recorder === 0, 10_000)).toBe(true);

    const truth = await allMemories(stores, kept.id);
    expect(truth).toHaveLength(100 - 15 + 1);
    const index = writer.collection(kept.id);
    expect([...index.keys()].sort()).toEqual(truth.map((m) => m.id).sort());
    for (const m of truth) {
      expect(index.get(m.id)).toMatchObject({ content: m.content, metadata: m.metadata, created_at: m.created_at });
    }
    expect(index.get("m5")?.content).toBe(`${MARKER} second 5`);
    expect([...index.get("m5")!.embedding]).toEqual([...vector(1005)]);
    expect(index.get("m25")).toMatchObject({ content: `${MARKER} patched 25`, metadata: { i: 25, v: 3 } });
    expect([...index.get("m25")!.embedding]).toEqual([...vector(2025)]);
    expect(index.get("m30")?.content).toBe(`${MARKER} reborn`);
    expect(index.has("m31")).toBe(false);
    expect(writer.collection(doomed.id).size).toBe(0);
    expect(writer.shared.deletedCollections.has(doomed.id)).toBe(true);

    // The logs tell what failed, never what was written.
    expect(logs.some((l) => l.includes("index writer failing"))).toBe(true);
    expect(logs.some((l) => l.includes(MARKER))).toBe(false);
  });

  test("a hung writer holds a write back at most deliveryTimeoutMs", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { deliveryTimeoutMs: 150 });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "slow", description: null });
    writer.delayMs = 1000;
    const started = performance.now();
    await stores.memories.upsert(c.id, [item("s1", "slow one", 1)]);
    expect(performance.now() - started).toBeLessThan(900);
    // Delivered once the slow call returns; nothing left behind.
    expect(await waitFor(async () => writer.collection(c.id).has("s1") && (await stores.outbox.backlog()).recorder === 0, 5000)).toBe(true);
  });

  test("a burst of writes against a slow writer neither exhausts the pool nor waits past the bound", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { poolSize: 4, deliveryTimeoutMs: 150 });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "burst", description: null });
    writer.delayMs = 600;
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => stores.memories.upsert(c.id, [item(`b${i}`, `burst ${i}`, i)])),
    );
    const elapsed = performance.now() - started;
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(elapsed).toBeLessThan(3000); // not 30 x 600 ms
    writer.delayMs = 0;
    expect(await waitFor(async () => (await stores.outbox.backlog()).recorder === 0, 10_000)).toBe(true);
    expect(writer.collection(c.id).size).toBe(30);
  });

  test("concurrent writes of one memory leave the index at its latest state (no stale overwrite)", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { deliveryTimeoutMs: 5000 });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "race", description: null });
    await stores.memories.upsert(c.id, [item("hot", "v0", 0)]);
    writer.delayMs = 5;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores.memories.patch(c.id, "hot", { metadata: { v: i + 1 } })),
    );
    // Read-your-writes: no drain; the index already has what Postgres has.
    const truth = (await stores.memories.get(c.id, "hot"))!;
    expect(writer.collection(c.id).get("hot")?.metadata).toEqual(truth.metadata);
    expect(writer.shared.overlaps).toEqual([]);
  });

  test("two dispatchers on one database never deliver a row or a memory concurrently, and lose nothing", async () => {
    const shared = new SharedIndex();
    const w1 = new RecordingWriter(shared);
    const w2 = new RecordingWriter(shared);
    const tuning = { outbox: { pollMs: 10, baseBackoffMs: 10, maxBackoffMs: 50, batchSize: 15 } };
    const s1 = await open(w1, tuning);
    const s2 = await open(w2, tuning);
    const c = await s1.collections.create(`owner-${crypto.randomUUID()}`, { name: "two", description: null });
    w1.failing = true;
    w2.failing = true;

    // 200 memories written once (one row each), 30 written four times (four rows each).
    await s1.memories.upsert(c.id, Array.from({ length: 200 }, (_, i) => item(`once${i}`, `once ${i}`, i)));
    for (let round = 0; round < 4; round++) {
      await (round % 2 === 0 ? s1 : s2).memories.upsert(
        c.id,
        Array.from({ length: 30 }, (_, i) => item(`many${i}`, `many ${i} round ${round}`, round * 100 + i, { round })),
      );
    }
    expect((await s1.outbox.backlog()).recorder).toBe(200 + 4 * 30);

    w1.delayMs = 3;
    w2.delayMs = 3;
    w1.failing = false;
    w2.failing = false;
    s1.outbox.kick();
    s2.outbox.kick();
    expect(await waitFor(async () => (await s1.outbox.backlog()).recorder === 0, 15_000)).toBe(true);

    expect(shared.overlaps).toEqual([]);
    // Rows of a memory written once were each delivered exactly once, by one dispatcher or the other.
    for (let i = 0; i < 200; i++) expect(shared.deliveries.get(`${c.id}/once${i}`)).toBe(1);
    expect(w1.delivered).toBeGreaterThan(0);
    expect(w2.delivered).toBeGreaterThan(0);
    // The index holds every memory at its latest state.
    const truth = await allMemories(s1, c.id);
    expect(truth).toHaveLength(230);
    for (const m of truth) {
      expect(shared.memories.get(`${c.id}/${m.id}`)).toMatchObject({ content: m.content, metadata: m.metadata });
    }
  });

  test("drain delivers everything at once, ignoring backoff; with no writers there is no outbox work", async () => {
    const writer = new RecordingWriter();
    const stores = await open(writer, { outbox: { dispatch: false, baseBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "drain", description: null });
    writer.failing = true;
    await stores.memories.upsert(c.id, [item("x", "x", 1), item("y", "y", 2)]);
    expect((await stores.outbox.backlog()).recorder).toBe(2);
    expect(await stores.outbox.drain(100)).toBe(false);
    writer.failing = false;
    expect(await stores.outbox.drain(2000)).toBe(true);
    expect([...writer.collection(c.id).keys()].sort()).toEqual(["x", "y"]);

    const plain = await open(new RecordingWriter(), { writers: [] });
    const p = await plain.collections.create(`owner-${crypto.randomUUID()}`, { name: "plain", description: null });
    await plain.memories.upsert(p.id, [item("z", "z", 3)]);
    expect(plain.outbox.targets).toEqual([]);
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM outbox WHERE collection_id = $1", [p.id]);
    expect(rows[0].n).toBe(0);
    expect(await plain.outbox.drain(100)).toBe(true);
  });
});
