import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { CollectionNotFoundError, InvalidCursorError, StaleUpdateError } from "../../src/domain/errors.ts";
import type { Memory } from "../../src/domain/memory.ts";
import { MATCH_ALL, type SearchFilter } from "../../src/domain/search.ts";
import { declareFilterTests } from "./filter-cases.ts";
import { fixturePerTest, ids, newCollection, settle, sleep, type StoreFactory, write } from "./contract-setup.ts";
import { axisVector, queryVector, similar } from "./vectors.ts";

const NO_FILTER: SearchFilter = MATCH_ALL;

/** The MemoryStore contract: CRUD, batches, pagination, hydration and keyword search. */
export function runMemoryStoreContract(name: string, factory: StoreFactory): void {
  describe(name, () => {
    const f = fixturePerTest(factory);
    const vec = (axis: number) => axisVector(f.dimensions, axis);

    test("upsert creates; get reads content, metadata and timestamps back", async () => {
      const { id } = await newCollection(f);
      const metadata = {
        source: "chat",
        score: 0.25,
        count: 3,
        pinned: true,
        none: null,
        tags: ["a", "b"],
        nested: { deep: { x: "ü 漢字 😀" } },
      };
      await f.memories.upsert(id, [write("m1", "hello world — ünïcödé 😀", vec(1), metadata)]);
      const m = (await f.memories.get(id, "m1"))!;
      expect(m).toMatchObject({ id: "m1", collection_id: id, content: "hello world — ünïcödé 😀", metadata });
      expect(Number.isNaN(Date.parse(m.created_at))).toBe(false);
      expect(m.updated_at).toBe(m.created_at);
      expect(await f.memories.get(id, "missing")).toBeNull();
    });

    test("a memory is invisible from another collection", async () => {
      const a = await newCollection(f, "a");
      const b = await newCollection(f, "b");
      await f.memories.upsert(a.id, [write("m1", "in a", vec(1))]);
      expect(await f.memories.get(b.id, "m1")).toBeNull();
      expect(await f.memories.patch(b.id, "m1", { metadata: { x: 1 } })).toBeNull();
      expect(await f.memories.delete(b.id, "m1")).toBe(false);
      expect(await f.memories.hydrate(b.id, ["m1"])).toEqual([]);
      expect((await f.memories.list(b.id, { limit: 10 })).items).toEqual([]);
      expect((await f.memories.get(a.id, "m1"))?.content).toBe("in a");
    });

    test("the same id may exist in two collections independently", async () => {
      const a = await newCollection(f, "a");
      const b = await newCollection(f, "b");
      await f.memories.upsert(a.id, [write("same", "from a", vec(1))]);
      await f.memories.upsert(b.id, [write("same", "from b", vec(2))]);
      expect((await f.memories.get(a.id, "same"))?.content).toBe("from a");
      expect((await f.memories.get(b.id, "same"))?.content).toBe("from b");
    });

    test("upsert of an existing id replaces it, keeps created_at and its place, bumps updated_at", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [
        write("first", "first memory", vec(1)),
        write("m1", "original zucchini", vec(2), { old: true, keep: "no" }),
        write("last", "last memory", vec(3)),
      ]);
      const before = (await f.memories.get(id, "m1"))!;
      await sleep(15);
      await f.memories.upsert(id, [write("m1", "replaced pumpkin", vec(4), { fresh: 1 })]);
      await settle(f);
      const after = (await f.memories.get(id, "m1"))!;
      expect(after.content).toBe("replaced pumpkin");
      expect(after.metadata).toEqual({ fresh: 1 });
      expect(after.created_at).toBe(before.created_at);
      expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
      expect(ids((await f.memories.list(id, { limit: 10 })).items)).toEqual(["first", "m1", "last"]);
      expect(await f.memories.keywordSearch(id, "zucchini", 10, NO_FILTER)).toEqual([]);
      expect(ids(await f.memories.keywordSearch(id, "pumpkin", 10, NO_FILTER))).toEqual(["m1"]);
      expect(ids(await f.vectors.search(id, vec(4), 1, NO_FILTER))).toEqual(["m1"]);
    });

    test("a batch with one invalid item writes nothing", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [write("keep", "kept as is", vec(1), { v: 1 })]);
      await settle(f);
      const wrongDimension = new Float32Array(f.dimensions + 1);
      wrongDimension[0] = 1;
      const attempt = f.memories.upsert(id, [
        write("new1", "brand new walrus", vec(2)),
        write("keep", "overwritten walrus", vec(3), { v: 2 }),
        write("bad", "wrong dimension walrus", wrongDimension),
      ]);
      await expect(attempt).rejects.toThrow();
      await settle(f);
      expect(await f.memories.get(id, "new1")).toBeNull();
      expect(await f.memories.get(id, "bad")).toBeNull();
      const keep = (await f.memories.get(id, "keep"))!;
      expect(keep.content).toBe("kept as is");
      expect(keep.metadata).toEqual({ v: 1 });
      expect(ids((await f.memories.list(id, { limit: 10 })).items)).toEqual(["keep"]);
      expect(await f.memories.keywordSearch(id, "walrus", 10, NO_FILTER)).toEqual([]);
      expect(ids(await f.vectors.search(id, vec(1), 10, NO_FILTER))).toEqual(["keep"]);
    });

    test("a batch of 1000 is written whole", async () => {
      const { id } = await newCollection(f);
      const items = Array.from({ length: 1000 }, (_, i) => write(`b${i}`, `bulk item ${i}`, vec(i + 1), { i }));
      await f.memories.upsert(id, items);
      const page = await f.memories.list(id, { limit: 1000 });
      expect(page.items).toHaveLength(1000);
      expect(page.items[999]).toMatchObject({ id: "b999", metadata: { i: 999 } });
      expect(page.next_cursor).toBeNull();
    });

    test("list pages through 25 memories in insertion order, 10 at a time", async () => {
      const { id } = await newCollection(f);
      const expected = Array.from({ length: 25 }, (_, i) => `p${String(24 - i).padStart(2, "0")}`);
      // Three batches, ids deliberately not in sorted order.
      await f.memories.upsert(id, expected.slice(0, 7).map((m, i) => write(m, `page ${m}`, vec(i + 1))));
      await f.memories.upsert(id, expected.slice(7, 20).map((m, i) => write(m, `page ${m}`, vec(i + 1))));
      await f.memories.upsert(id, expected.slice(20).map((m, i) => write(m, `page ${m}`, vec(i + 1))));

      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await f.memories.list(id, { limit: 10, ...(cursor !== undefined ? { cursor } : {}) });
        sizes.push(page.items.length);
        seen.push(...ids(page.items));
        if (page.next_cursor === null) break;
        cursor = page.next_cursor;
      }
      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(expected);
      expect(new Set(seen).size).toBe(25);
    });

    test("a cursor survives the deletion of the memory it points after", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, Array.from({ length: 6 }, (_, i) => write(`c${i}`, `c${i}`, vec(i + 1))));
      const first = await f.memories.list(id, { limit: 3 });
      expect(ids(first.items)).toEqual(["c0", "c1", "c2"]);
      await f.memories.delete(id, "c2");
      const second = await f.memories.list(id, { limit: 3, cursor: first.next_cursor! });
      expect(ids(second.items)).toEqual(["c3", "c4", "c5"]);
      expect(second.next_cursor).toBeNull();
    });

    test("an empty collection lists no items and no cursor", async () => {
      const { id } = await newCollection(f);
      expect(await f.memories.list(id, { limit: 10 })).toEqual({ items: [], next_cursor: null });
    });

    test("a cursor this store did not produce is an InvalidCursorError", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [write("m1", "x", vec(1))]);
      const b64 = (s: string) => Buffer.from(s).toString("base64url");
      for (const cursor of ["garbage", "%%%", "AAAA", "====", b64("{}"), b64("1"), b64("offset:10"), "a".repeat(500)]) {
        const error = await f.memories.list(id, { limit: 10, cursor }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidCursorError);
      }
    });

    test("an upsert into a collection that no longer exists is a CollectionNotFoundError and writes nothing", async () => {
      const c = await newCollection(f);
      expect(await f.collections.delete(c.owner, c.id)).toBe(true);
      const error = await f.memories.upsert(c.id, [write("m1", "too late", vec(1))]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CollectionNotFoundError);
      expect(await f.memories.get(c.id, "m1")).toBeNull();
    });

    test("patch with ifUpdatedAt applies only over that state; every write moves updated_at", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [write("m1", "memo", axisVector(f.dimensions, 1))]);
      const read = (await f.memories.get(id, "m1"))!;
      // two writes back to back (likely within one millisecond): each one moves updated_at
      const first = (await f.memories.patch(id, "m1", { metadata: { n: 1 }, ifUpdatedAt: read.updated_at }))!;
      expect(first.updated_at > read.updated_at).toBe(true);
      await f.memories.upsert(id, [write("m1", "memo", axisVector(f.dimensions, 1), { n: 2 })]);
      const second = (await f.memories.get(id, "m1"))!;
      expect(second.updated_at > first.updated_at).toBe(true);
      // a patch computed from an older state is refused, and changes nothing
      await expect(f.memories.patch(id, "m1", { metadata: { n: 3 }, ifUpdatedAt: first.updated_at })).rejects.toBeInstanceOf(StaleUpdateError);
      expect((await f.memories.get(id, "m1"))!.metadata).toEqual({ n: 2 });
      // a missing memory is still null, not stale
      expect(await f.memories.patch(id, "absent", { metadata: {}, ifUpdatedAt: first.updated_at })).toBeNull();
    });

    test("patch changes only the fields given", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [write("m1", "steady content", vec(1), { a: 1 })]);
      const before = (await f.memories.get(id, "m1"))!;
      await sleep(15);
      const patched = (await f.memories.patch(id, "m1", { metadata: { b: 2 } }))!;
      expect(patched.content).toBe("steady content");
      expect(patched.metadata).toEqual({ b: 2 });
      expect(patched.created_at).toBe(before.created_at);
      expect(Date.parse(patched.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
      expect(await f.memories.get(id, "m1")).toEqual(patched);
    });

    test("patching content moves the keyword row and the embedding with it", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      await f.memories.upsert(id, [
        write("m1", "old giraffe", similar(d, 0.1, 1), { a: 1 }),
        write("m2", "other text", similar(d, 0.5, 2)),
      ]);
      await settle(f);
      const patched = (await f.memories.patch(id, "m1", { content: "new penguin", embedding: similar(d, 0.9, 3) }))!;
      await settle(f);
      expect(patched.content).toBe("new penguin");
      expect(patched.metadata).toEqual({ a: 1 });
      expect(await f.memories.keywordSearch(id, "giraffe", 10, NO_FILTER)).toEqual([]);
      expect(ids(await f.memories.keywordSearch(id, "penguin", 10, NO_FILTER))).toEqual(["m1"]);
      expect(ids(await f.vectors.search(id, queryVector(d), 2, NO_FILTER))).toEqual(["m1", "m2"]);
    });

    test("patch of a missing memory is null", async () => {
      const { id } = await newCollection(f);
      expect(await f.memories.patch(id, "missing", { metadata: {} })).toBeNull();
    });

    test("delete removes it everywhere, once", async () => {
      const { id } = await newCollection(f);
      await f.memories.upsert(id, [write("m1", "ephemeral quokka", vec(1)), write("m2", "durable", vec(2))]);
      await settle(f);
      expect(await f.memories.delete(id, "m1")).toBe(true);
      expect(await f.memories.delete(id, "m1")).toBe(false);
      await settle(f);
      expect(await f.memories.get(id, "m1")).toBeNull();
      expect(ids((await f.memories.list(id, { limit: 10 })).items)).toEqual(["m2"]);
      expect(await f.memories.hydrate(id, ["m1"])).toEqual([]);
      expect(await f.memories.keywordSearch(id, "quokka", 10, NO_FILTER)).toEqual([]);
      expect(ids(await f.vectors.search(id, vec(1), 10, NO_FILTER))).toEqual(["m2"]);
      // The id can be written again.
      await f.memories.upsert(id, [write("m1", "reborn quokka", vec(1))]);
      expect((await f.memories.get(id, "m1"))?.content).toBe("reborn quokka");
    });

    describe("deleteMany", () => {
      test("by ids: deletes those of the collection that exist, oldest first, everywhere", async () => {
        const a = await newCollection(f, "a");
        const b = await newCollection(f, "b");
        await f.memories.upsert(a.id, [
          write("m1", "first wombat", vec(1)),
          write("m2", "second kept", vec(2)),
          write("m3", "third wombat", vec(3)),
          write("m4", "fourth kept", vec(4)),
        ]);
        await f.memories.upsert(b.id, [write("m1", "foreign wombat", vec(5))]);
        await settle(f);
        const outcome = await f.memories.deleteMany(a.id, { ids: ["m3", "missing", "m1", "m3"] }, { limit: 10 }, { by: "alice" });
        expect(outcome).toEqual({ ids: ["m1", "m3"], more: false });
        await settle(f);
        expect(await f.memories.get(a.id, "m1")).toBeNull();
        expect(ids((await f.memories.list(a.id, { limit: 10 })).items)).toEqual(["m2", "m4"]);
        expect(await f.memories.keywordSearch(a.id, "wombat", 10, NO_FILTER)).toEqual([]);
        expect(new Set(ids(await f.vectors.search(a.id, vec(1), 10, NO_FILTER)))).toEqual(new Set(["m2", "m4"]));
        // the other collection's memory of the same id is untouched
        expect((await f.memories.get(b.id, "m1"))?.content).toBe("foreign wombat");
        expect(ids(await f.vectors.search(b.id, vec(5), 10, NO_FILTER))).toEqual(["m1"]);
        // deleted once: again, nothing is picked
        expect(await f.memories.deleteMany(a.id, { ids: ["m1", "m3"] }, { limit: 10 })).toEqual({ ids: [], more: false });
        // an id can be written again
        await f.memories.upsert(a.id, [write("m1", "reborn wombat", vec(1))]);
        expect((await f.memories.get(a.id, "m1"))?.content).toBe("reborn wombat");
      });

      test("by filter: at most `limit` a call, oldest first, `more` until none is left; a dry run changes nothing", async () => {
        const { id } = await newCollection(f);
        await f.memories.upsert(id, [
          ...Array.from({ length: 5 }, (_, i) => write(`a${i}`, `tagged ${i}`, vec(i + 1), { tag: "a", i })),
          ...Array.from({ length: 2 }, (_, i) => write(`b${i}`, `other ${i}`, vec(i + 10), { tag: "b" })),
        ]);
        await settle(f);
        const tagA: SearchFilter = { kind: "metadata", key: "tag", op: "eq", value: "a" };
        const dry = await f.memories.deleteMany(id, { filter: tagA }, { limit: 3, dryRun: true });
        expect(dry).toEqual({ ids: ["a0", "a1", "a2"], more: true });
        expect((await f.memories.list(id, { limit: 10 })).items).toHaveLength(7);
        expect(await f.memories.deleteMany(id, { filter: tagA }, { limit: 3 })).toEqual({ ids: ["a0", "a1", "a2"], more: true });
        expect(await f.memories.deleteMany(id, { filter: tagA }, { limit: 3, dryRun: true })).toEqual({ ids: ["a3", "a4"], more: false });
        expect(await f.memories.deleteMany(id, { filter: tagA }, { limit: 3 })).toEqual({ ids: ["a3", "a4"], more: false });
        expect(await f.memories.deleteMany(id, { filter: tagA }, { limit: 3 })).toEqual({ ids: [], more: false });
        await settle(f);
        expect(ids((await f.memories.list(id, { limit: 10 })).items)).toEqual(["b0", "b1"]);
        expect(new Set(ids(await f.vectors.search(id, vec(1), 10, NO_FILTER)))).toEqual(new Set(["b0", "b1"]));
        // a limit below the ids given deletes the oldest of them and says more remain
        expect(await f.memories.deleteMany(id, { ids: ["b1", "b0"] }, { limit: 1 })).toEqual({ ids: ["b0"], more: true });
        expect(await f.memories.deleteMany(id, { ids: ["b1", "b0"] }, { limit: 0 })).toEqual({ ids: [], more: false });
        expect(ids((await f.memories.list(id, { limit: 10 })).items)).toEqual(["b1"]);
      });

      test("the filter that matches everything empties the collection, and only it", async () => {
        const a = await newCollection(f, "a");
        const b = await newCollection(f, "b");
        await f.memories.upsert(a.id, Array.from({ length: 4 }, (_, i) => write(`x${i}`, `all of them ${i}`, vec(i + 1))));
        await f.memories.upsert(b.id, [write("y", "spared", vec(9))]);
        await settle(f);
        expect(await f.memories.deleteMany(a.id, { filter: NO_FILTER }, { limit: 1000 })).toEqual({ ids: ["x0", "x1", "x2", "x3"], more: false });
        await settle(f);
        expect(await f.memories.list(a.id, { limit: 10 })).toEqual({ items: [], next_cursor: null });
        expect(await f.vectors.search(a.id, vec(1), 10, NO_FILTER)).toEqual([]);
        expect(ids((await f.memories.list(b.id, { limit: 10 })).items)).toEqual(["y"]);
      });

      test("a collection that does not exist picks nothing", async () => {
        const c = await newCollection(f);
        await f.memories.upsert(c.id, [write("m1", "x", vec(1))]);
        expect(await f.collections.delete(c.owner, c.id)).toBe(true);
        for (const collectionId of [c.id, crypto.randomUUID(), "not-a-uuid"]) {
          expect(await f.memories.deleteMany(collectionId, { ids: ["m1"] }, { limit: 10 })).toEqual({ ids: [], more: false });
          expect(await f.memories.deleteMany(collectionId, { filter: NO_FILTER }, { limit: 10, dryRun: true })).toEqual({ ids: [], more: false });
        }
      });
    });

    test("hydrate returns the given order, skipping missing and foreign ids", async () => {
      const a = await newCollection(f, "a");
      const b = await newCollection(f, "b");
      await f.memories.upsert(a.id, [write("x", "x", vec(1)), write("y", "y", vec(2)), write("z", "z", vec(3))]);
      await f.memories.upsert(b.id, [write("w", "w", vec(4))]);
      const found: Memory[] = await f.memories.hydrate(a.id, ["z", "missing", "x", "w", "y"]);
      expect(ids(found)).toEqual(["z", "x", "y"]);
      expect(found[0]).toEqual((await f.memories.get(a.id, "z"))!);
      expect(await f.memories.hydrate(a.id, [])).toEqual([]);
    });

    describe("keyword search", () => {
      const corpus = [
        ["k1", "The quick brown fox jumps over the lazy dog"],
        ["k2", "A zebra crossing near the station"],
        ["k3", "The station is busy in the morning"],
        ["k4", "She was running every morning before work"],
        ["k5", "Brown bread and butter for breakfast"],
        ["k6", "Meeting notes: the station budget was approved"],
      ] as const;
      const seed = async () => {
        const { id } = await newCollection(f);
        await f.memories.upsert(id, corpus.map(([m, text], i) => write(m, text, vec(i + 1))));
        await settle(f);
        return id;
      };

      test("a rare exact term ranks its memory first; scores descend", async () => {
        const id = await seed();
        const hits = await f.memories.keywordSearch(id, "zebra station", 10, NO_FILTER);
        expect(hits[0]?.id).toBe("k2");
        expect(new Set(ids(hits))).toEqual(new Set(["k2", "k3", "k6"]));
        for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
        expect(ids(await f.memories.keywordSearch(id, "ZEBRA", 10, NO_FILTER))).toEqual(["k2"]);
      });

      test("stems: 'runs' finds 'running'", async () => {
        const id = await seed();
        expect(ids(await f.memories.keywordSearch(id, "runs", 10, NO_FILTER))).toEqual(["k4"]);
      });

      test("English stopwords are ignored: a stopword-only query finds nothing", async () => {
        const id = await seed();
        expect(await f.memories.keywordSearch(id, "the was and", 10, NO_FILTER)).toEqual([]);
        expect(ids(await f.memories.keywordSearch(id, "the zebra", 10, NO_FILTER))).toEqual(["k2"]);
      });

      test("minTermsMatched 2 keeps only memories matching two distinct query words", async () => {
        const id = await seed();
        // "station" alone is in k2, k3 and k6; only k3 also has "morning", only k6 "budget".
        const two = await f.memories.keywordSearch(id, "station morning budget", 10, NO_FILTER, { minTermsMatched: 2 });
        expect(new Set(ids(two))).toEqual(new Set(["k3", "k6"]));
        const any = await f.memories.keywordSearch(id, "station morning budget", 10, NO_FILTER);
        expect(new Set(ids(any))).toEqual(new Set(["k2", "k3", "k4", "k6"]));
        // A one-word query needs just that word.
        expect(ids(await f.memories.keywordSearch(id, "zebra", 10, NO_FILTER, { minTermsMatched: 2 }))).toEqual(["k2"]);
      });

      test("k bounds the hits", async () => {
        const id = await seed();
        expect(await f.memories.keywordSearch(id, "the station morning brown", 2, NO_FILTER)).toHaveLength(2);
      });

      test("no word, no hits: empty and punctuation-only queries", async () => {
        const id = await seed();
        for (const q of ["", "   ", "?!... --- ***", '"()"', "…"]) {
          expect(await f.memories.keywordSearch(id, q, 10, NO_FILTER)).toEqual([]);
        }
      });

      test("FTS syntax in the query is plain text, never an error", async () => {
        const id = await seed();
        const hostile = [
          'AND OR "(',
          "zebra AND",
          "NOT zebra",
          "NEAR(zebra station)",
          "zeb*",
          "content:zebra",
          "-zebra",
          "^zebra",
          '"unbalanced zebra',
          ") OR (",
          "'; DROP TABLE memories; --",
          "zebra\u0000station",
          "{col1 col2}: zebra",
          "a".repeat(2000),
        ];
        for (const q of hostile) {
          const hits = await f.memories.keywordSearch(id, q, 10, NO_FILTER);
          expect(Array.isArray(hits)).toBe(true);
        }
        expect(ids(await f.memories.keywordSearch(id, "zebra AND", 10, NO_FILTER))).toContain("k2");
        expect((await f.memories.get(id, "k1"))?.id).toBe("k1");
      });

      test("only the collection's memories are searched", async () => {
        const id = await seed();
        const other = await newCollection(f, "other");
        await f.memories.upsert(other.id, [write("o1", "zebra zebra zebra", vec(1))]);
        await settle(f);
        expect(ids(await f.memories.keywordSearch(id, "zebra", 10, NO_FILTER))).toEqual(["k2"]);
        expect(ids(await f.memories.keywordSearch(other.id, "zebra", 10, NO_FILTER))).toEqual(["o1"]);
      });

      test("a filter is applied inside the query: k hits when k match", async () => {
        const { id } = await newCollection(f);
        const items = [
          ...Array.from({ length: 30 }, (_, i) => write(`a${i}`, "apple apple apple orchard", vec(i + 1), { tag: "a" })),
          ...Array.from({ length: 5 }, (_, i) =>
            write(`b${i}`, `a long memory that mentions an apple once among many other words ${i}`, vec(i + 40), { tag: "b" }),
          ),
        ];
        await f.memories.upsert(id, items);
        await settle(f);
        const filter: SearchFilter = { kind: "metadata", key: "tag", op: "eq", value: "b" };
        const hits = await f.memories.keywordSearch(id, "apple", 3, filter);
        expect(hits).toHaveLength(3);
        for (const hit of hits) expect(hit.id.startsWith("b")).toBe(true);
      });

      declareFilterTests(
        () => f,
        async (fx, collectionId, filter) => ids(await fx.memories.keywordSearch(collectionId, "memo", 100, filter)),
        "keyword",
      );

      declareFilterTests(
        () => f,
        async (fx, collectionId, filter) => {
          const all = (await fx.memories.list(collectionId, { limit: 1000 })).items.map((m) => m.id);
          return fx.memories.matchingIds(collectionId, ["missing", ...all], filter);
        },
        "matchingIds",
      );

      test("matchingIds keeps the order given, skips missing ids and other collections' memories", async () => {
        const a = await newCollection(f);
        const b = await newCollection(f);
        await f.memories.upsert(a.id, [write("x", "memo", axisVector(f.dimensions, 1), { t: 1 }), write("y", "memo", axisVector(f.dimensions, 2), { t: 2 })]);
        await f.memories.upsert(b.id, [write("z", "memo", axisVector(f.dimensions, 3), { t: 1 })]);
        await settle(f);
        expect(await f.memories.matchingIds(a.id, ["y", "z", "nope", "x"], NO_FILTER)).toEqual(["y", "x"]);
        expect(await f.memories.matchingIds(a.id, ["y", "z", "x"], { kind: "metadata", key: "t", op: "eq", value: 1 })).toEqual(["x"]);
        expect(await f.memories.matchingIds(a.id, [], NO_FILTER)).toEqual([]);
      });

      // list takes the same filters, and its cursor pages through the matches
      declareFilterTests(
        () => f,
        async (fx, collectionId, filter) => {
          const found: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await fx.memories.list(collectionId, { limit: 3, cursor, filter });
            expect(page.items.length).toBeLessThanOrEqual(3);
            found.push(...ids(page.items));
            cursor = page.next_cursor ?? undefined;
          } while (cursor !== undefined);
          return found;
        },
        "list",
      );
    });
  });
}
