import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedStores } from "../../src/stores/embedded/index.ts";
import { openDatabase, StatementCache } from "../../src/stores/embedded/database.ts";
import { EmbeddedVectorIndex } from "../../src/stores/embedded/vector-index.ts";
import { SearchThreadsUnavailable, SearchThreads } from "../../src/stores/embedded/search-threads.ts";
import { MATCH_ALL, type SearchFilter } from "../../src/domain/search.ts";
import type { StoreFixture } from "../ports/contract-setup.ts";
import { runVectorIndexContract } from "../ports/vector-index.contract.ts";
import { runMemoryStoreContract } from "../ports/memory-store.contract.ts";
import { queryVector, similar } from "../ports/vectors.ts";

const DIMENSIONS = 384;
const dir = mkdtempSync(join(tmpdir(), "memory-api-search-threads-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const newPath = () => join(dir, `${crypto.randomUUID()}.db`);
const fileStores = (threads: number, path = newPath()) => openEmbeddedStores({ path, dimensions: DIMENSIONS, searchThreads: threads });

// The same contracts as the main connection's (test/stores/embedded.test.ts), every search on a thread.
const threaded = async (): Promise<StoreFixture> => {
  const stores = fileStores(2);
  return { ...stores, dimensions: DIMENSIONS, settle: async () => {}, cleanup: async () => stores.close() };
};
runVectorIndexContract("embedded VectorIndex on search threads", threaded);
runMemoryStoreContract("embedded MemoryStore, keyword search on search threads", threaded);

describe("embedded search threads", () => {
  test("searches run on the threads and answer exactly as the main connection does, filters included", async () => {
    const path = newPath();
    const stores = fileStores(2, path);
    const c = await stores.collections.create("u1", { name: "threads", description: null });
    await stores.memories.upsert(
      c.id,
      Array.from({ length: 300 }, (_, i) => ({
        id: `m${i}`,
        content: `memory ${i}`,
        metadata: { tag: i % 3 === 0 ? "a" : "b", n: i },
        embedding: similar(DIMENSIONS, 0.99 - (i % 97) * 0.01, i + 1),
      })),
    );
    const onMain = new EmbeddedVectorIndex(new StatementCache(openDatabase({ path, dimensions: DIMENSIONS })), DIMENSIONS);
    const filters: SearchFilter[] = [MATCH_ALL, { kind: "metadata", key: "tag", op: "eq", value: "a" }];
    for (const filter of filters) {
      for (const k of [1, 10, 120]) {
        const threaded = await stores.vectors.search(c.id, queryVector(DIMENSIONS), k, filter);
        expect(threaded.length).toBeGreaterThan(0);
        expect(threaded).toEqual(await onMain.search(c.id, queryVector(DIMENSIONS), k, filter));
      }
    }
    expect(stores.searchThreads()).toMatchObject({ threads: 2, live: 2, served: 6, inFlight: 0 });
    stores.close();
  });

  test("keyword searches run on the threads too, ranked as on the main connection; a deleted collection has no hits", async () => {
    const path = newPath();
    const stores = fileStores(2, path);
    const c = await stores.collections.create("u1", { name: "words", description: null });
    const words = ["wombat", "burrow", "creek", "garden", "tunnel"];
    await stores.memories.upsert(
      c.id,
      Array.from({ length: 200 }, (_, i) => ({
        id: `k${i}`,
        content: `${words[i % 5]} ${words[(i * 3) % 5]} note ${i} ${i % 7 === 0 ? "wombat wombat" : ""}`,
        metadata: { even: i % 2 === 0 },
        embedding: similar(DIMENSIONS, 0.5, i + 1),
      })),
    );
    const main = openEmbeddedStores({ path, dimensions: DIMENSIONS, searchThreads: 0 });
    const before = stores.searchThreads()!.served;
    for (const filter of [MATCH_ALL, { kind: "metadata", key: "even", op: "eq", value: true } as SearchFilter]) {
      const threaded = await stores.memories.keywordSearch(c.id, "wombat creek", 25, filter);
      expect(threaded.length).toBe(25);
      expect(threaded).toEqual(await main.memories.keywordSearch(c.id, "wombat creek", 25, filter));
    }
    expect(stores.searchThreads()!.served).toBe(before + 2);
    await stores.collections.delete("u1", c.id);
    expect(await stores.memories.keywordSearch(c.id, "wombat", 5, MATCH_ALL)).toEqual([]);
    main.close();
    stores.close();
  });

  test("a write is found by the very next search (the threads read every committed write)", async () => {
    const stores = fileStores(2);
    const c = await stores.collections.create("u1", { name: "fresh", description: null });
    for (let i = 0; i < 20; i++) {
      await stores.memories.upsert(c.id, [{ id: `w${i}`, content: "x", metadata: {}, embedding: similar(DIMENSIONS, 0.999, i + 1) }]);
      const hits = await stores.vectors.search(c.id, queryVector(DIMENSIONS), 1, MATCH_ALL);
      expect(hits.map((h) => h.id)).toEqual([`w${i}`]);
      await stores.memories.delete(c.id, `w${i}`);
      expect(await stores.vectors.search(c.id, queryVector(DIMENSIONS), 1, MATCH_ALL)).toEqual([]);
    }
    expect(stores.searchThreads()!.served).toBe(40);
    stores.close();
  });

  test("many searches at once are shared between the threads and all answered", async () => {
    const stores = fileStores(2);
    const c = await stores.collections.create("u1", { name: "concurrent", description: null });
    await stores.memories.upsert(c.id, Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, content: "x", metadata: {}, embedding: similar(DIMENSIONS, 0.9 - i * 0.01, i + 1) })));
    const answers = await Promise.all(Array.from({ length: 64 }, () => stores.vectors.search(c.id, queryVector(DIMENSIONS), 3, MATCH_ALL)));
    for (const hits of answers) expect(hits.map((h) => h.id)).toEqual(["m0", "m1", "m2"]);
    expect(stores.searchThreads()).toMatchObject({ served: 64, inFlight: 0 });
    stores.close();
  });

  test("threads that cannot open the file leave the searches to the main connection", async () => {
    const pool = new SearchThreads({ path: join(dir, "missing", "nothing.db"), threads: 1 });
    const db = openDatabase({ path: ":memory:", dimensions: DIMENSIONS });
    const index = new EmbeddedVectorIndex(new StatementCache(db), DIMENSIONS, pool);
    // the thread reports it cannot open the file; until then its queries fail the same way
    await expect(pool.run({ sql: "SELECT 1 AS id, 1 AS score", params: [] })).rejects.toBeInstanceOf(SearchThreadsUnavailable);
    expect(pool.stats()).toMatchObject({ threads: 1, live: 0 });
    expect(await index.search(crypto.randomUUID(), queryVector(DIMENSIONS), 5, MATCH_ALL)).toEqual([]);
    pool.close();
    db.close();
  });

  test("an SQL error is the caller's error, not a reason to retry elsewhere; closed threads refuse", async () => {
    const path = newPath();
    const stores = fileStores(0, path);
    const pool = new SearchThreads({ path, threads: 1 });
    await expect(pool.run({ sql: "SELECT no_such_column FROM memories", params: [] })).rejects.toThrow("no such column");
    expect(pool.stats()).toMatchObject({ live: 1 });
    pool.close();
    pool.close(); // idempotent
    await expect(pool.run({ sql: "SELECT 1", params: [] })).rejects.toBeInstanceOf(SearchThreadsUnavailable);
    stores.close();
  });

  test(":memory: and 0 threads search on the main connection", async () => {
    expect(openEmbeddedStores({ path: ":memory:", dimensions: 8, searchThreads: 4 }).searchThreads()).toBeUndefined();
    const stores = fileStores(0);
    expect(stores.searchThreads()).toBeUndefined();
    stores.close();
  });
});
