import { describe, expect, test } from "bun:test";
import { MATCH_ALL, type SearchFilter } from "../../src/domain/search.ts";
import { declareFilterTests } from "./filter-cases.ts";
import { fixturePerTest, ids, newCollection, settle, type StoreFactory, write } from "./contract-setup.ts";
import { queryVector, similar } from "./vectors.ts";

const NO_FILTER: SearchFilter = MATCH_ALL;
const tagIs = (value: string): SearchFilter => ({ kind: "metadata", key: "tag", op: "eq", value });

/** The VectorIndex contract; memories are written through the fixture's MemoryStore. */
export function runVectorIndexContract(name: string, factory: StoreFactory): void {
  describe(name, () => {
    const f = fixturePerTest(factory);

    test("hits come most similar first, scored by cosine similarity", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      const sims: [string, number][] = [
        ["s90", 0.9],
        ["s50", 0.5],
        ["s70", 0.7],
        ["s10", 0.1],
        ["neg30", -0.3],
        ["s99", 0.99],
      ];
      await f.memories.upsert(id, sims.map(([m, s], i) => write(m, m, similar(d, s, i + 1))));
      await settle(f);
      const hits = await f.vectors.search(id, queryVector(d), 10, NO_FILTER);
      expect(ids(hits)).toEqual(["s99", "s90", "s70", "s50", "s10", "neg30"]);
      const expected = [0.99, 0.9, 0.7, 0.5, 0.1, -0.3];
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!, 3));
    });

    test("k bounds the hits; fewer memories than k gives them all", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      await f.memories.upsert(id, Array.from({ length: 20 }, (_, i) => write(`m${i}`, "x", similar(d, 0.95 - i * 0.04, i + 1))));
      await settle(f);
      expect(ids(await f.vectors.search(id, queryVector(d), 5, NO_FILTER))).toEqual(["m0", "m1", "m2", "m3", "m4"]);
      expect(await f.vectors.search(id, queryVector(d), 1, NO_FILTER)).toHaveLength(1);
      expect(await f.vectors.search(id, queryVector(d), 100, NO_FILTER)).toHaveLength(20);
    });

    test("an empty or unknown collection has no hits", async () => {
      const { id } = await newCollection(f);
      expect(await f.vectors.search(id, queryVector(f.dimensions), 10, NO_FILTER)).toEqual([]);
      expect(await f.vectors.search(crypto.randomUUID(), queryVector(f.dimensions), 10, NO_FILTER)).toEqual([]);
      const filter = tagIs("x");
      expect(await f.vectors.search(id, queryVector(f.dimensions), 10, filter)).toEqual([]);
    });

    test("a search never leaves its collection, filtered or not", async () => {
      const a = await newCollection(f, "a");
      const b = await newCollection(f, "b");
      const d = f.dimensions;
      await f.memories.upsert(a.id, Array.from({ length: 5 }, (_, i) => write(`a${i}`, "a", similar(d, 0.2 + i * 0.01, i + 1), { tag: "t" })));
      // B's memories are all closer to the query, and share ids with A.
      await f.memories.upsert(b.id, [
        ...Array.from({ length: 20 }, (_, i) => write(`b${i}`, "b", similar(d, 0.9 + i * 0.004, i + 10), { tag: "t" })),
        write("a0", "b's a0", similar(d, 0.99, 40), { tag: "t" }),
      ]);
      await settle(f);
      const plain = await f.vectors.search(a.id, queryVector(d), 10, NO_FILTER);
      expect(ids(plain)).toEqual(["a4", "a3", "a2", "a1", "a0"]);
      expect(plain[4]!.score).toBeCloseTo(0.2, 3);
      const filtered = await f.vectors.search(a.id, queryVector(d), 10, tagIs("t"));
      expect(ids(filtered)).toEqual(["a4", "a3", "a2", "a1", "a0"]);
      expect(filtered[4]!.score).toBeCloseTo(0.2, 3);
    });

    test("a filter is applied inside the search: k hits when k match, however many closer rows fail it", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      await f.memories.upsert(id, [
        ...Array.from({ length: 50 }, (_, i) => write(`close${i}`, "close", similar(d, 0.95 - i * 0.001, i + 1), { tag: "a" })),
        ...Array.from({ length: 10 }, (_, i) => write(`far${i}`, "far", similar(d, 0.3 - i * 0.01, i + 60), { tag: "b" })),
      ]);
      await settle(f);
      const hits = await f.vectors.search(id, queryVector(d), 5, tagIs("b"));
      expect(ids(hits)).toEqual(["far0", "far1", "far2", "far3", "far4"]);
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(0.3 - i * 0.01, 3));
    });

    test("k hits when k match, also for filters an index must check outside its own expressions ($contains, $exists, updated_at)", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      await f.memories.upsert(id, [
        ...Array.from({ length: 300 }, (_, i) => write(`close${i}`, "close", similar(d, 0.95 - i * 0.0001, i + 1), { tags: ["a", "b"], n: i })),
        ...Array.from({ length: 6 }, (_, i) => write(`far${i}`, "far", similar(d, 0.3 - i * 0.01, i + 400), { tags: ["a", "z"], n: i })),
      ]);
      await settle(f);
      const contains: SearchFilter = { kind: "metadata", key: "tags", op: "contains", value: "z" };
      const hits = await f.vectors.search(id, queryVector(d), 5, contains);
      expect(ids(hits)).toEqual(["far0", "far1", "far2", "far3", "far4"]);
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(0.3 - i * 0.01, 3));
      // a part the index states (n < 3) with a part it must check
      const mixed: SearchFilter = { kind: "and", nodes: [contains, { kind: "metadata", key: "n", op: "lt", value: 3 }] };
      expect(ids(await f.vectors.search(id, queryVector(d), 10, mixed))).toEqual(["far0", "far1", "far2"]);
      const none: SearchFilter = { kind: "metadata", key: "absent", op: "exists", value: true };
      expect(await f.vectors.search(id, queryVector(d), 5, none)).toEqual([]);
    });

    test("updated and deleted memories are reflected", async () => {
      const { id } = await newCollection(f);
      const d = f.dimensions;
      await f.memories.upsert(id, [
        write("m1", "one", similar(d, 0.9, 1)),
        write("m2", "two", similar(d, 0.8, 2)),
        write("m3", "three", similar(d, 0.7, 3)),
      ]);
      await settle(f);
      await f.memories.upsert(id, [write("m3", "three again", similar(d, 0.95, 4))]);
      await f.memories.delete(id, "m1");
      await settle(f);
      const hits = await f.vectors.search(id, queryVector(d), 10, NO_FILTER);
      expect(ids(hits)).toEqual(["m3", "m2"]);
      expect(hits[0]!.score).toBeCloseTo(0.95, 3);
    });

    declareFilterTests(
      () => f,
      async (fx, collectionId, filter) => ids(await fx.vectors.search(collectionId, queryVector(fx.dimensions), 100, filter)),
      "vector",
    );
  });
}
