import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedStores } from "../../src/stores/embedded/index.ts";
import { runCollectionStoreContract } from "../ports/collection-store.contract.ts";
import type { StoreFixture } from "../ports/contract-setup.ts";
import { type GraphFixture, runGraphStoreContract } from "../ports/graph-store.contract.ts";
import { runMemoryStoreContract } from "../ports/memory-store.contract.ts";
import { runApiKeyStoreContract } from "../ports/api-key-store.contract.ts";
import { runSearchCacheContract } from "../ports/search-cache.contract.ts";
import { MATCH_ALL } from "../../src/domain/search.ts";
import { runVectorIndexContract } from "../ports/vector-index.contract.ts";
import { axisVector } from "../ports/vectors.ts";

const DIMENSIONS = 384;

/**
 * A fresh in-memory database per test; the graph tables are written in the memories'
 * transactions, so every write is visible at once.
 */
const embedded = async (): Promise<StoreFixture & GraphFixture> => {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: DIMENSIONS });
  return { ...stores, dimensions: DIMENSIONS, settle: async () => {}, cleanup: async () => stores.close() };
};

/** The embedded mode's cache: in-process values, generations in the database. */
const embeddedCache = async () => {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: 8, cacheMaxEntries: 5 });
  return { cache: stores.cache, cleanup: async () => stores.close() };
};

runCollectionStoreContract("embedded CollectionStore", embedded);
runMemoryStoreContract("embedded MemoryStore", embedded);
runVectorIndexContract("embedded VectorIndex", embedded);
runGraphStoreContract("embedded GraphStore (SQLite)", embedded);
runSearchCacheContract("embedded SearchCache", embeddedCache, { lruMaxEntries: 5 });
runApiKeyStoreContract("embedded ApiKeyStore", async () => {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: 8 });
  return { keys: stores.apiKeys, cleanup: async () => stores.close() };
});

// Embedded specifics: the file, its migrations, and sharing it between processes.

describe("embedded database file", () => {
  const dir = mkdtempSync(join(tmpdir(), "memory-api-embedded-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("creates its folder, uses WAL, and reopens with its data (migrations are idempotent)", async () => {
    const path = join(dir, "nested", "memories.db");
    const first = openEmbeddedStores({ path, dimensions: 16 });
    const c = await first.collections.create("u1", { name: "kept", description: null });
    await first.memories.upsert(c.id, [{ id: "m1", content: "persisted", metadata: {}, embedding: axisVector(16, 1) }]);
    first.close();
    first.close(); // idempotent

    const second = openEmbeddedStores({ path, dimensions: 16 });
    expect((await second.memories.get(c.id, "m1"))?.content).toBe("persisted");
    expect((await second.vectors.search(c.id, axisVector(16, 1), 1, MATCH_ALL))[0]?.id).toBe("m1");
    second.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect((raw.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBeGreaterThan(0);
    raw.close();
  });

  test("a file from before per-collection keyword indexes is migrated: each collection's memories re-indexed in its own", async () => {
    const path = join(dir, "keyword-migration.db");
    const stores = openEmbeddedStores({ path, dimensions: 16 });
    const a = await stores.collections.create("u1", { name: "a", description: null });
    const b = await stores.collections.create("u2", { name: "b", description: null });
    await stores.memories.upsert(a.id, [
      { id: "a1", content: "wombats dig burrows", metadata: {}, embedding: axisVector(16, 1) },
      { id: "a2", content: "rabbits dig warrens", metadata: {}, embedding: axisVector(16, 2) },
    ]);
    await stores.memories.upsert(b.id, [{ id: "b1", content: "a wombat at the creek", metadata: {}, embedding: axisVector(16, 3) }]);
    stores.close();
    // back to the shape of version 8: one FTS5 table for all, kept by triggers
    const raw = new Database(path);
    for (const { name } of raw.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'memories_fts_%'").all()) {
      if (/^memories_fts_[0-9a-f]{32}$/.test(name)) raw.run(`DROP TABLE IF EXISTS ${name}`);
    }
    raw.run("CREATE VIRTUAL TABLE memories_fts USING fts5(content, content = 'memories', content_rowid = 'seq', tokenize = 'porter unicode61 remove_diacritics 2')");
    raw.run("INSERT INTO memories_fts (rowid, content) SELECT seq, content FROM memories");
    raw.run("CREATE TRIGGER memories_after_insert AFTER INSERT ON memories BEGIN INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content); END");
    raw.run("PRAGMA user_version = 8");
    raw.close();

    const reopened = openEmbeddedStores({ path, dimensions: 16 });
    const hits = async (cid: string, q: string) => (await reopened.memories.keywordSearch(cid, q, 10, MATCH_ALL)).map((h) => h.id);
    expect(await hits(a.id, "wombat dig")).toEqual(["a1", "a2"]);
    expect(await hits(b.id, "wombat")).toEqual(["b1"]);
    await reopened.memories.upsert(a.id, [{ id: "a3", content: "a wombat again", metadata: {}, embedding: axisVector(16, 4) }]);
    expect((await hits(a.id, "wombat")).sort()).toEqual(["a1", "a3"]);
    reopened.close();
    const after = new Database(path, { readonly: true });
    const tables = after.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE name LIKE 'memories_fts%' AND type = 'table'").all().map((r) => r.name);
    expect(tables).not.toContain("memories_fts");
    expect(after.query("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = 'memories_after_insert'").all()).toEqual([]);
    after.close();
  });

  test("refuses to open a database made for other dimensions", () => {
    const path = join(dir, "dims.db");
    openEmbeddedStores({ path, dimensions: 16 }).close();
    expect(() => openEmbeddedStores({ path, dimensions: 32 })).toThrow(/16-dimensional/);
  });

  test("two connections to one file share collection generations", async () => {
    const path = join(dir, "shared.db");
    const worker1 = openEmbeddedStores({ path, dimensions: 16 });
    const worker2 = openEmbeddedStores({ path, dimensions: 16 });
    expect(await worker1.cache.bumpGeneration("c")).toBe(1);
    expect(await worker2.cache.generation("c")).toBe(1);
    expect(await worker2.cache.bumpGeneration("c")).toBe(2);
    expect(await worker1.cache.generation("c")).toBe(2);
    worker1.close();
    worker2.close();
  });

  test("health reports sqlite ready with a latency", async () => {
    const stores = openEmbeddedStores({ path: ":memory:", dimensions: 16 });
    const status = await stores.health.check();
    expect(status).toMatchObject({ name: "sqlite", ready: true });
    expect(status.latency_ms).toBeGreaterThanOrEqual(0);
    stores.close();
  });

  test("rejects a query vector of the wrong dimension", async () => {
    const stores = openEmbeddedStores({ path: ":memory:", dimensions: 16 });
    const c = await stores.collections.create("u", { name: "n", description: null });
    await expect(stores.vectors.search(c.id, new Float32Array(8), 5, MATCH_ALL)).rejects.toThrow(RangeError);
    stores.close();
  });
});
