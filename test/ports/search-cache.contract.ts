import { describe, expect, test } from "bun:test";
import type { SearchCache } from "../../src/ports/search-cache.ts";
import { fixturePerTest, type Opened, sleep } from "./contract-setup.ts";

export interface CacheFixture extends Opened {
  cache: SearchCache;
  /**
   * A collection whose generations the cache may keep (default: a fresh UUID). A cache whose
   * generations live in a durable ledger knows only the collections that ledger holds.
   */
  newCollection?(): Promise<string>;
}

export interface CacheCapabilities {
  /**
   * The bound the factory's cache was built with, when it evicts the least recently used
   * entry beyond it (an in-process LRU); absent for a cache that bounds memory otherwise.
   */
  lruMaxEntries?: number;
}

/** The SearchCache contract. Keys and collection ids are fresh UUIDs, so a shared Redis works. */
export function runSearchCacheContract(
  name: string,
  factory: () => Promise<CacheFixture>,
  capabilities: CacheCapabilities = {},
): void {
  describe(name, () => {
    const fx = fixturePerTest(factory);
    const key = (label: string) => `contract:${label}:${crypto.randomUUID()}`;

    test("a missing key is null; a set key reads back; set replaces", async () => {
      const k = key("rw");
      expect(await fx.cache.get(k)).toBeNull();
      await fx.cache.set(k, '{"results":[]}', 60);
      expect(await fx.cache.get(k)).toBe('{"results":[]}');
      await fx.cache.set(k, "second", 60);
      expect(await fx.cache.get(k)).toBe("second");
      expect(await fx.cache.get(key("other"))).toBeNull();
    });

    test("values are stored verbatim (unicode, empty, large)", async () => {
      const values = ["", "ü 漢字 😀 \u0000 \n", "x".repeat(200_000)];
      for (const value of values) {
        const k = key("verbatim");
        await fx.cache.set(k, value, 60);
        expect(await fx.cache.get(k)).toBe(value);
      }
    });

    test("an entry expires after its TTL", async () => {
      const k = key("ttl");
      const lasting = key("lasting");
      await fx.cache.set(k, "soon gone", 1);
      await fx.cache.set(lasting, "stays", 60);
      expect(await fx.cache.get(k)).toBe("soon gone");
      // Poll: no assertion on how long expiry took, only that it happens.
      let value: string | null = "soon gone";
      for (let i = 0; i < 100 && value !== null; i++) {
        await sleep(50);
        value = await fx.cache.get(k);
      }
      expect(value).toBeNull();
      expect(await fx.cache.get(lasting)).toBe("stays");
    });

    const collection = () => fx.newCollection?.() ?? Promise.resolve(crypto.randomUUID());

    test("a new collection's generation is 0; each bump returns a value above every earlier one", async () => {
      const [c, other] = await Promise.all([collection(), collection()]);
      expect(await fx.cache.generation(c)).toBe(0);
      const first = await fx.cache.bumpGeneration(c);
      const second = await fx.cache.bumpGeneration(c);
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(first);
      expect(await fx.cache.generation(c)).toBe(second);
      expect(await fx.cache.generation(other)).toBe(0);
    });

    test("concurrent bumps each return a distinct generation; the collection holds the highest", async () => {
      const c = await collection();
      const results = await Promise.all(Array.from({ length: 20 }, () => fx.cache.bumpGeneration(c)));
      expect(new Set(results).size).toBe(20);
      expect(await fx.cache.generation(c)).toBe(Math.max(...results));
    });

    const max = capabilities.lruMaxEntries;
    test.skipIf(max === undefined)("beyond its bound, the least recently used entry goes first", async () => {
      const bound = max!;
      const keys = Array.from({ length: bound }, (_, i) => key(`lru${i}`));
      for (const k of keys) await fx.cache.set(k, k, 60);
      // Touch the oldest: the second oldest becomes the least recently used.
      expect(await fx.cache.get(keys[0]!)).toBe(keys[0]!);
      const extra = key("extra");
      await fx.cache.set(extra, "extra", 60);
      expect(await fx.cache.get(keys[1]!)).toBeNull();
      expect(await fx.cache.get(keys[0]!)).toBe(keys[0]!);
      expect(await fx.cache.get(extra)).toBe("extra");
      for (const k of keys.slice(2)) expect(await fx.cache.get(k)).toBe(k);
    });
  });
}
