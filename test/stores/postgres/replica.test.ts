/**
 * Reads that tolerate lag (list, keyword search, hydrate) against the stack's real hot standby
 * (scripts/stack/postgres-replica.ts): they run there once it has replayed the collection's
 * writes; with its WAL replay paused, a write read back at once through another "worker" is
 * still seen (the read went to the primary); after replay resumes they go back to the replica;
 * an unreachable replica degrades to the primary. Skipped with a notice unless both servers
 * answer; MEMORY_TEST_PRODUCTION=required makes that a failure.
 *
 * Pausing replay needs pg_wal_replay_pause() on the standby: the stack grants it to the
 * application role (compose's role is a superuser).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import pg from "pg";
import { createLogger, silentLogger } from "../../../src/log.ts";
import { createMetrics } from "../../../src/metrics/metrics.ts";
import type { MemoryWrite } from "../../../src/domain/memory.ts";
import { MATCH_ALL } from "../../../src/domain/search.ts";
import { openPostgresStores, type PostgresStores } from "../../../src/stores/postgres/index.ts";
import { PgPool, type Sql } from "../../../src/stores/postgres/pool.ts";
import { type ReadCount, ReplicaReads } from "../../../src/stores/postgres/replica-reads.ts";
import { PostgresMemoryStore } from "../../../src/stores/postgres/memories.ts";
import { PostgresChangeFeed } from "../../../src/stores/postgres/change-feed.ts";
import { Outbox } from "../../../src/stores/postgres/outbox.ts";
import { MemorySearchCache } from "../../../src/stores/in-process/cache.ts";
import { ChangeWindows } from "../../../src/search/change-windows.ts";
import { createSearchPipeline } from "../../../src/search/pipeline.ts";
import type { Embedder } from "../../../src/ports/embedder.ts";
import { modelKeyOf } from "../../../src/domain/embedding-model.ts";
import { productionConfig, replicaUrl, servicesAvailable } from "../../support/services.ts";
import { silentServer } from "../../support/silent-server.ts";
import { dropSchema, RUN_ID } from "../service-setup.ts";

const PRIMARY = productionConfig.databaseUrl;
const SCHEMA = `replica_${RUN_ID}`;
const DIMENSIONS = 8;
/** A bound on waiting for the standby to replay, not a timing claim. */
const REPLAY_WAIT_MS = 30_000;

const run = await servicesAvailable("postgres read replicas", ["postgres", "postgres-replica"]);

const vector = (seed: number) => Float32Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(seed * 7 + i));
const memory = (id: string, content: string, seed: number): MemoryWrite => ({ id, content, metadata: { seed }, embedding: vector(seed) });

/** Reads counted so far, by "target/reason". */
function counted(stores: PostgresStores): Record<string, number> {
  return Object.fromEntries(stores.readStats().map((c: ReadCount) => [`${c.target}/${c.reason}`, c.count]));
}

/** What each counter gained between two snapshots (absent = 0). */
function gained(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) if (n - (before[key] ?? 0) > 0) out[key] = n - (before[key] ?? 0);
  return out;
}

/** The pool, counting the statements it runs that read a collection's change-log head. */
function countingHeadReads(pool: PgPool): { pool: PgPool; headReads: () => number } {
  let n = 0;
  const counting = new Proxy(pool, {
    get(target, prop) {
      if (prop === "query") {
        return (sql: Sql, values?: unknown[]) => {
          if ((typeof sql === "string" ? sql : sql.text).includes("memory_change_heads")) n++;
          return target.query(sql, values);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { pool: counting, headReads: () => n };
}

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!run)("postgres read replicas", () => {
  let writer: PostgresStores; // one worker writes
  let reader: PostgresStores; // another reads (its own pools, no state shared with the writer)
  let primary: pg.Client;
  let standby: pg.Client;

  /** Until the standby has replayed everything the primary has written so far. */
  async function replayed(): Promise<void> {
    const { rows } = await primary.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    const until = Date.now() + REPLAY_WAIT_MS;
    for (;;) {
      const r = await standby.query<{ caught: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught", [rows[0]!.lsn]);
      if (r.rows[0]!.caught) return;
      if (Date.now() > until) throw new Error(`the standby has not replayed ${rows[0]!.lsn} within ${REPLAY_WAIT_MS} ms`);
      await Bun.sleep(20);
    }
  }

  async function pauseReplay(): Promise<void> {
    await standby.query("SELECT pg_wal_replay_pause()");
    // requested is enough: the startup process checks before it applies the next record
    const { rows } = await standby.query<{ paused: boolean }>("SELECT pg_is_wal_replay_paused() AS paused");
    expect(rows[0]!.paused).toBe(true);
  }

  const resumeReplay = () => standby.query("SELECT pg_wal_replay_resume()");

  /** Whether the standby itself holds this memory (proves a read that saw it ran elsewhere). */
  async function onStandby(collectionId: string, id: string): Promise<boolean> {
    const { rows } = await standby.query(`SELECT 1 FROM ${SCHEMA}.memories WHERE collection_id = $1 AND id = $2`, [collectionId, id]);
    return rows.length === 1;
  }

  beforeAll(async () => {
    const open = () =>
      openPostgresStores({
        url: PRIMARY,
        schema: SCHEMA,
        poolSize: 4,
        log: silentLogger,
        writers: [],
        dimensions: DIMENSIONS,
        replicaUrls: [replicaUrl],
        replicaPoolSize: 2,
        // the schema reaches the standby a moment after it is made: no rest after that failure
        replicaRestMs: 0,
      });
    writer = await open();
    reader = await open();
    primary = new pg.Client({ connectionString: PRIMARY });
    standby = new pg.Client({ connectionString: replicaUrl });
    await Promise.all([primary.connect(), standby.connect()]);
    await resumeReplay(); // a run stopped half-way may have left it paused
  });

  afterAll(async () => {
    await standby?.query("SELECT pg_wal_replay_resume()").catch(() => {});
    await Promise.all([writer?.close(), reader?.close()]);
    await Promise.all([primary?.end(), standby?.end()]);
    await dropSchema(SCHEMA);
  });

  test("the standby is in recovery, and reads of a collection it has replayed run there", async () => {
    const { rows } = await standby.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
    expect(rows[0]!.r).toBe(true);
    const c = await writer.collections.create(`owner_${RUN_ID}`, { name: "caught-up", description: null });
    await writer.memories.upsert(c.id, [memory("a", "the quick brown fox", 1), memory("b", "a lazy dog sleeps", 2)]);
    await replayed();

    const before = counted(reader);
    expect((await reader.memories.list(c.id, { limit: 10 })).items.map((m) => m.id)).toEqual(["a", "b"]);
    expect((await reader.memories.hydrate(c.id, ["b", "a"])).map((m) => m.content)).toEqual(["a lazy dog sleeps", "the quick brown fox"]);
    expect((await reader.memories.keywordSearch(c.id, "fox", 5, MATCH_ALL)).map((h) => h.id)).toEqual(["a"]);
    const reads = gained(before, counted(reader));
    expect(Object.keys(reads)).toEqual(["replica/caught_up"]);
    expect(reads["replica/caught_up"]).toBeGreaterThanOrEqual(3);
  });

  test("replay paused: a write read back at once through another worker is seen (the primary answered), other collections stay on the replica", async () => {
    const owner = `owner_${RUN_ID}`;
    const paused = await writer.collections.create(owner, { name: "paused", description: null });
    const quiet = await writer.collections.create(owner, { name: "quiet", description: null });
    await writer.memories.upsert(paused.id, [memory("old", "an old note about tea", 3)]);
    await writer.memories.upsert(quiet.id, [memory("q", "nothing changes here", 4)]);
    await replayed();
    await pauseReplay();
    try {
      // create
      await writer.memories.upsert(paused.id, [memory("new", "a zebra crossed the road", 5)]);
      expect(await onStandby(paused.id, "new")).toBe(false);
      let before = counted(reader);
      expect((await reader.memories.list(paused.id, { limit: 10 })).items.map((m) => m.id)).toEqual(["old", "new"]);
      expect((await reader.memories.hydrate(paused.id, ["new"])).map((m) => m.content)).toEqual(["a zebra crossed the road"]);
      expect((await reader.memories.keywordSearch(paused.id, "zebra", 5, MATCH_ALL)).map((h) => h.id)).toEqual(["new"]);
      let reads = gained(before, counted(reader));
      expect(Object.keys(reads)).toEqual(["primary/behind"]);
      expect(reads["primary/behind"]).toBeGreaterThanOrEqual(3);

      // patch and delete, read back at once
      await writer.memories.patch(paused.id, "old", { content: "an old note about coffee", embedding: vector(8) });
      expect((await reader.memories.hydrate(paused.id, ["old"])).map((m) => m.content)).toEqual(["an old note about coffee"]);
      expect((await reader.memories.keywordSearch(paused.id, "coffee", 5, MATCH_ALL)).map((h) => h.id)).toEqual(["old"]);
      expect(await writer.memories.delete(paused.id, "new")).toBe(true);
      expect(await reader.memories.hydrate(paused.id, ["new", "old"])).toHaveLength(1);
      expect((await reader.memories.list(paused.id, { limit: 10 })).items.map((m) => m.id)).toEqual(["old"]);

      // a collection with no write since the pause is still read from the standby
      before = counted(reader);
      expect((await reader.memories.hydrate(quiet.id, ["q"])).map((m) => m.content)).toEqual(["nothing changes here"]);
      reads = gained(before, counted(reader));
      expect(reads).toEqual({ "replica/caught_up": 1 });
    } finally {
      await resumeReplay();
    }

    // replay resumed: once it has caught up, the same reads go back to the replica
    await replayed();
    const before = counted(reader);
    expect((await reader.memories.list(paused.id, { limit: 10 })).items.map((m) => m.content)).toEqual(["an old note about coffee"]);
    expect(await reader.memories.hydrate(paused.id, ["new"])).toEqual([]);
    const reads = gained(before, counted(reader));
    expect(reads).toEqual({ "replica/caught_up": 2 });
  });

  test("a semantic search reads the collection's head on the primary once: its hydration, routed by that head, reads only the replica's", async () => {
    const owner = `owner_${RUN_ID}`;
    const embedder: Embedder = { model: "fixed", dimensions: DIMENSIONS, embed: async (texts) => texts.map(() => vector(1)), close: async () => {} };
    const c = await writer.collections.create(owner, { name: "search-head", description: null, embedding_model: modelKeyOf(embedder) });
    await writer.memories.upsert(c.id, [memory("a", "the quick brown fox", 1), memory("b", "a lazy dog sleeps", 2)]);
    await replayed();

    // one worker's search path, as the production runtime wires it, its primary pool counted
    const primaryPool = new PgPool({ url: PRIMARY, schema: SCHEMA, poolSize: 2, log: silentLogger });
    const { pool: counted, headReads } = countingHeadReads(primaryPool);
    const reads = new ReplicaReads(counted, [{ url: replicaUrl, pool: new PgPool({ url: replicaUrl, schema: SCHEMA, poolSize: 1, log: silentLogger }) }], silentLogger);
    const memories = new PostgresMemoryStore(counted, new Outbox(counted, [], silentLogger), DIMENSIONS, { reads });
    const cache = new MemorySearchCache();
    const pipeline = createSearchPipeline({
      collections: writer.collections,
      memories,
      vectors: { search: async () => [{ id: "a", score: 0.9 }, { id: "b", score: 0.8 }] },
      cache,
      embedder,
      log: silentLogger,
      cacheTtlSeconds: 60,
      hybridCandidates: 10,
      changeFeed: new ChangeWindows(new PostgresChangeFeed(counted, Date.now)),
      rollForward: { margin: 2, maxChanges: 50 },
    });
    const search = async (query: string) => {
      const before = headReads();
      const { body } = await pipeline.search({ userId: owner, tier: "free", exp: Number.POSITIVE_INFINITY }, { query, collection_id: c.id, top_k: 2, search_type: "semantic", rerank: false });
      return { contents: (JSON.parse(body) as { results: { content: string }[] }).results.map((r) => r.content), headReads: headReads() - before };
    };
    try {
      // a routed read that knows no head reads the primary's itself (the count sees it)
      let before = headReads();
      expect(await memories.hydrate(c.id, ["a"])).toHaveLength(1);
      expect(headReads() - before).toBe(1);

      expect(await search("fox")).toEqual({ contents: ["the quick brown fox", "a lazy dog sleeps"], headReads: 1 });
      expect(reads.stats()).toEqual([{ target: "replica", reason: "caught_up", count: 2 }]);

      // replay paused: the head the search read is past the replica's, so hydration still sees the write
      await pauseReplay();
      try {
        await writer.memories.patch(c.id, "a", { content: "the quick brown fox jumped", embedding: vector(1) });
        expect(await search("fox again")).toEqual({ contents: ["the quick brown fox jumped", "a lazy dog sleeps"], headReads: 1 });
        expect(reads.stats()).toContainEqual({ target: "primary", reason: "behind", count: 1 });
      } finally {
        await resumeReplay();
      }
    } finally {
      cache.close();
      await Promise.all([reads.close(), primaryPool.close()]);
    }
  });

  test("the choice is counted in memory_api_postgres_reads_total{target,reason}", async () => {
    const metrics = createMetrics();
    metrics.setSources({ pgReads: () => reader.readStats() });
    const text = await metrics.render();
    expect(text).toMatch(/memory_api_postgres_reads_total\{target="replica",reason="caught_up"\} [1-9]\d*/);
    expect(text).toMatch(/memory_api_postgres_reads_total\{target="primary",reason="behind"\} [1-9]\d*/);
  });

  test("an unreachable replica degrades to the primary: right answers, one warning per rest period, counted as unavailable", async () => {
    const c = await writer.collections.create(`owner_${RUN_ID}`, { name: "unreachable", description: null });
    await writer.memories.upsert(c.id, [memory("x", "a heron in the reeds", 6)]);
    const logs: string[] = [];
    const log = createLogger("warn", (line) => logs.push(line));
    const url = `postgres://memory:memory@127.0.0.1:${await closedPort()}/memory`;
    const primaryPool = new PgPool({ url: PRIMARY, schema: SCHEMA, poolSize: 2, log: silentLogger });
    let now = 1_000_000;
    const reads = new ReplicaReads(primaryPool, [{ url, pool: new PgPool({ url, schema: SCHEMA, poolSize: 1, connectionTimeoutMs: 1000, log: silentLogger }) }], log, {
      restMs: 5000,
      warnEveryMs: 5000,
      now: () => now,
    });
    const hydrate = async () =>
      (await reads.query<{ id: string }>(c.id, `SELECT id FROM memories WHERE collection_id = $1`, [c.id])).rows.map((r) => r.id);
    try {
      for (let i = 0; i < 4; i++) expect(await hydrate()).toEqual(["x"]);
      expect(reads.stats()).toEqual([{ target: "primary", reason: "unavailable", count: 4 }]);
      expect(logs).toHaveLength(1);
      expect(JSON.parse(logs[0]!)).toMatchObject({ level: "warn", replica: `127.0.0.1:${new URL(url).port}` });
      expect(logs[0]).not.toContain("memory:memory");

      now += 5000; // the rest is over: tried again, failed again, warned again
      expect(await hydrate()).toEqual(["x"]);
      expect(logs).toHaveLength(2);

      // the same through the stores, as production opens them
      const stores = await openPostgresStores({ url: PRIMARY, schema: SCHEMA, poolSize: 2, log: silentLogger, writers: [], dimensions: DIMENSIONS, replicaUrls: [url] });
      try {
        expect((await stores.memories.hydrate(c.id, ["x"])).map((m) => m.content)).toEqual(["a heron in the reeds"]);
        expect((await stores.memories.keywordSearch(c.id, "heron", 5, MATCH_ALL)).map((h) => h.id)).toEqual(["x"]);
        expect((await stores.memories.list(c.id, { limit: 5 })).items.map((m) => m.id)).toEqual(["x"]);
        expect(stores.readStats().every((r) => r.target === "primary" && r.reason === "unavailable")).toBe(true);
      } finally {
        await stores.close();
      }
    } finally {
      await Promise.all([reads.close(), primaryPool.close()]);
    }
  });

  test("a replica that accepts connections and never answers is given up after the head timeout: the read runs on the primary", async () => {
    const c = await writer.collections.create(`owner_${RUN_ID}`, { name: "hung", description: null });
    await writer.memories.upsert(c.id, [memory("h", "a hung server", 8)]);
    const silent = await silentServer();
    const url = `postgres://memory:memory@127.0.0.1:${silent.port}/memory`;
    const primaryPool = new PgPool({ url: PRIMARY, schema: SCHEMA, poolSize: 2, log: silentLogger });
    // the connection timeout is longer than the head timeout: the head timeout is what acts
    const hung = new PgPool({ url, schema: SCHEMA, poolSize: 1, connectionTimeoutMs: 60_000, log: silentLogger });
    const reads = new ReplicaReads(primaryPool, [{ url, pool: hung }], silentLogger, { headTimeoutMs: 200 });
    try {
      const { rows } = await reads.query<{ content: string }>(c.id, "SELECT content FROM memories WHERE collection_id = $1", [c.id]);
      expect(rows.map((r) => r.content)).toEqual(["a hung server"]);
      expect(reads.stats()).toEqual([{ target: "primary", reason: "unavailable", count: 1 }]);
    } finally {
      silent.close();
      await Promise.all([reads.close().catch(() => {}), primaryPool.close()]);
    }
  });

  test("no replica configured: every read on the primary, counted as no_replica", async () => {
    const stores = await openPostgresStores({ url: PRIMARY, schema: SCHEMA, poolSize: 2, log: silentLogger, writers: [], dimensions: DIMENSIONS });
    try {
      const c = await stores.collections.create(`owner_${RUN_ID}`, { name: "primary-only", description: null });
      await stores.memories.upsert(c.id, [memory("p", "plain primary", 7)]);
      expect((await stores.memories.list(c.id, { limit: 5 })).items.map((m) => m.id)).toEqual(["p"]);
      expect(stores.readStats()).toEqual([{ target: "primary", reason: "no_replica", count: 1 }]);
    } finally {
      await stores.close();
    }
  });
});
