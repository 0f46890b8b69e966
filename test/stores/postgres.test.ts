import { describe, expect, test } from "bun:test";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import { translateError } from "../../src/stores/postgres/errors.ts";
import { migrate, MIGRATIONS } from "../../src/stores/postgres/migrations.ts";
import { PgPool } from "../../src/stores/postgres/pool.ts";
import { openPostgresStores } from "../../src/stores/postgres/index.ts";
import { DependencyUnavailableError } from "../../src/domain/errors.ts";
import { type Hit, isMatchAll, type SearchFilter } from "../../src/domain/search.ts";
import type { IndexedMemory, IndexWriter } from "../../src/ports/index-writer.ts";
import type { VectorIndex } from "../../src/ports/vector-index.ts";
import { runCollectionStoreContract } from "../ports/collection-store.contract.ts";
import type { StoreFactory } from "../ports/contract-setup.ts";
import { runMemoryStoreContract } from "../ports/memory-store.contract.ts";
import { runApiKeyStoreContract } from "../ports/api-key-store.contract.ts";
import { axisVector } from "../ports/vectors.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { silentServer } from "../support/silent-server.ts";
import { dropSchema, RUN_ID, sharedOutboxStores } from "./service-setup.ts";

const DIMENSIONS = 384;
const URL = productionConfig.databaseUrl;
const SCHEMA = `contract_${RUN_ID}`;

/**
 * A derived index fed only through the outbox, kept in memory: the suites' `vectors` searches
 * it, so every vector assertion checks that the outbox delivered the memory's current state
 * (replaced, patched, deleted, cascaded). Exact cosine, unfiltered only (the real VectorIndex,
 * Milvus, has its own contract run).
 */
class InMemoryIndex implements IndexWriter, VectorIndex {
  readonly name = "contract-index";
  private readonly collections = new Map<string, Map<string, IndexedMemory>>();

  async upsert(items: IndexedMemory[]): Promise<void> {
    for (const item of items) {
      let c = this.collections.get(item.collection_id);
      if (c === undefined) this.collections.set(item.collection_id, (c = new Map()));
      c.set(item.id, item);
    }
  }

  async delete(collectionId: string, ids: string[]): Promise<void> {
    const c = this.collections.get(collectionId);
    for (const id of ids) c?.delete(id);
  }

  async deleteCollection(collectionId: string): Promise<void> {
    this.collections.delete(collectionId);
  }

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    if (!isMatchAll(filter)) {
      throw new Error("the test index searches unfiltered only");
    }
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const hits = [...(this.collections.get(collectionId)?.values() ?? [])].map((m) => {
      let dot = 0;
      for (let i = 0; i < vector.length; i++) dot += vector[i]! * m.embedding[i]!;
      return { id: m.id, score: dot / (norm(vector) * norm(m.embedding) || 1) };
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

const run = await servicesAvailable("postgres contract", ["postgres"]);

describe("postgres error translation", () => {
  const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

  test("connection-level failures are DependencyUnavailableError, statement errors are not", () => {
    for (const e of [
      withCode("ECONNREFUSED"),
      withCode("ETIMEDOUT"),
      withCode("ECONNRESET"),
      withCode("57P01"),
      withCode("57P03"),
      withCode("08006"),
      withCode("08001"),
      withCode("53300"),
      new Error("timeout exceeded when trying to connect"),
      new Error("Connection terminated unexpectedly"),
      new AggregateError([withCode("ECONNREFUSED")], "connect"),
    ]) {
      const translated = translateError(e);
      expect(translated).toBeInstanceOf(DependencyUnavailableError);
      expect((translated as DependencyUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    }
    for (const e of [withCode("23505"), withCode("23503"), withCode("22P02"), withCode("42P01"), new TypeError("bad")]) {
      expect(translateError(e)).toBe(e);
    }
  });
});

describe("postgres unreachable", () => {
  test("an unreachable database is a DependencyUnavailableError quickly, not a hang", async () => {
    const dead = new globalThis.URL(URL);
    dead.hostname = "127.0.0.1";
    dead.port = "1"; // nothing listens there
    const started = performance.now();
    const error = await openPostgresStores({ url: dead.toString(), log: silentLogger, writers: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe("postgres");
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("a server that accepts but never answers is a DependencyUnavailableError after the connection timeout", async () => {
    const silent = await silentServer();
    const started = performance.now();
    const error = await openPostgresStores({
      url: `postgres://memory:memory@127.0.0.1:${silent.port}/memory`,
      log: silentLogger,
      writers: [],
      connectionTimeoutMs: 300,
    }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    silent.close();
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe.if(run)("postgres stores", () => {
  /** One set of stores for the file (its own schema); suites use fresh owners and collections. */
  const shared = sharedOutboxStores({
    schema: SCHEMA,
    poolSize: 10,
    dimensions: DIMENSIONS,
    drainMs: 5000,
    openIndexes: async () => {
      const index = new InMemoryIndex();
      return { indexes: index, writers: [index], close: async () => {} };
    },
  });
  const postgres: StoreFactory = async () => {
    const fixture = await shared();
    return { ...fixture, vectors: fixture.indexes };
  };

  runCollectionStoreContract("postgres CollectionStore", postgres);
  runMemoryStoreContract("postgres MemoryStore", postgres);
  runApiKeyStoreContract("postgres ApiKeyStore", async () => ({ keys: (await shared()).stores.apiKeys, cleanup: async () => {} }));

  // Postgres specifics: migrations, the pool, failure modes.

  describe("postgres specifics", () => {
    test("migrations are idempotent when run twice concurrently, and again after", async () => {
      const schema = `${SCHEMA}_mig`;
      const pools = [0, 1, 2].map(() => new PgPool({ url: URL, schema, poolSize: 2, log: silentLogger }));
      try {
        const applied = await Promise.all(pools.map((p) => migrate(p, silentLogger)));
        // Exactly one runner applied each version; the others found it done.
        expect(applied.flat().sort((a, b) => a - b)).toEqual(MIGRATIONS.map((_, i) => i + 1));
        expect(await migrate(pools[0]!, silentLogger)).toEqual([]);
        const { rows } = await pools[0]!.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
        // And the stores open on it.
        const stores = await openPostgresStores({ url: URL, schema, poolSize: 2, log: silentLogger, writers: [] });
        const c = await stores.collections.create("owner-mig", { name: "n", description: null });
        expect((await stores.collections.get("owner-mig", c.id))?.name).toBe("n");
        await stores.close();
      } finally {
        await Promise.all(pools.map((p) => p.close()));
        await dropSchema(schema);
      }
    });

    test("warm pre-opens connections in parallel, bounded by the pool size", async () => {
      const stores = await openPostgresStores({ url: URL, schema: SCHEMA, poolSize: 6, log: silentLogger, writers: [] });
      try {
        expect(await stores.warm(4)).toBeGreaterThanOrEqual(4);
        expect(await stores.warm(100)).toBe(6);
        const status = await stores.health.check();
        expect(status).toMatchObject({ name: "postgres", ready: true });
        expect(status.detail).toContain("6/6 open");
      } finally {
        await stores.close();
        await stores.close(); // idempotent
      }
    });

    test("a connection killed mid-query (admin shutdown) is a DependencyUnavailableError; the pool recovers", async () => {
      const tag = `memtest_${crypto.randomUUID().slice(0, 8)}`;
      const tagged = new globalThis.URL(URL);
      tagged.searchParams.set("application_name", tag);
      const pool = new PgPool({ url: tagged.toString(), schema: SCHEMA, poolSize: 2, log: silentLogger });
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      try {
        const slow = pool.query("SELECT pg_sleep(10)").catch((e: unknown) => e);
        for (let i = 0; i < 50; i++) {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
            [tag],
          );
          if (rows[0].n > 0) break;
          await Bun.sleep(20);
        }
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [tag]);
        const error = await slow;
        expect(error).toBeInstanceOf(DependencyUnavailableError);
        expect(((error as Error).cause as { code?: string }).code).toBe("57P01");
        const { rows } = await pool.query<{ one: number }>("SELECT 1 AS one");
        expect(rows[0]!.one).toBe(1);
      } finally {
        await admin.end();
        await pool.close();
      }
    });

    test("a constraint violation is not a dependency failure", async () => {
      const stores = await openPostgresStores({ url: URL, schema: SCHEMA, poolSize: 2, log: silentLogger, writers: [] });
      try {
        const missing = crypto.randomUUID(); // no such collection: foreign key violation
        const error = await stores.memories
          .upsert(missing, [{ id: "m", content: "x", metadata: {}, embedding: axisVector(8, 1) }])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(DependencyUnavailableError);
      } finally {
        await stores.close();
      }
    });

    test("content and metadata with U+0000 are refused before anything is written", async () => {
      const f = await postgres();
      const c = await f.collections.create(`owner-${crypto.randomUUID()}`, { name: "nul", description: null });
      const v = axisVector(DIMENSIONS, 1);
      await expect(f.memories.upsert(c.id, [{ id: "a", content: "x\u0000y", metadata: {}, embedding: v }])).rejects.toThrow(RangeError);
      await expect(f.memories.upsert(c.id, [{ id: "a", content: "x", metadata: { k: "\u0000" }, embedding: v }])).rejects.toThrow(RangeError);
      // A literal backslash-u0000 text is fine.
      await f.memories.upsert(c.id, [{ id: "b", content: "x", metadata: { k: "\\u0000" }, embedding: v }]);
      expect((await f.memories.get(c.id, "b"))?.metadata).toEqual({ k: "\\u0000" });
      expect(await f.memories.get(c.id, "a\u0000")).toBeNull();
      expect(await f.memories.get(c.id, "a")).toBeNull();
    });
  });
});
