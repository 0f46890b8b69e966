import { beforeEach, describe, expect, test } from "bun:test";
import { graphFacts } from "../../src/graph/extract.ts";
import { normaliseName } from "../../src/graph/normalise.ts";
import { type GraphInput, type GraphPath, MAX_CO_OCCURRING_ENTITIES } from "../../src/domain/graph.ts";
import type { MemoryWrite } from "../../src/domain/memory.ts";
import type { CollectionStore } from "../../src/ports/collection-store.ts";
import type { GraphStore } from "../../src/ports/graph-store.ts";
import type { MemoryStore } from "../../src/ports/memory-store.ts";
import { fixturePerTest, newOwner, type Opened } from "./contract-setup.ts";
import { axisVector } from "./vectors.ts";

/** What the graph contract runs against: the memory store that writes the graph, and the graph's read side. */
export interface GraphFixture extends Opened {
  collections: CollectionStore;
  memories: MemoryStore;
  graph: GraphStore;
  dimensions: number;
  /** Resolves once every write so far reached the graph (production: the outbox drained). */
  settle(): Promise<void>;
}

export type GraphFactory = () => Promise<GraphFixture>;

const render = (p: GraphPath) =>
  p.nodes.map((n, i) => (i === 0 ? n : `${p.steps[i - 1]!.reverse ? "<" : ""}${p.steps[i - 1]!.relation}(${p.steps[i - 1]!.weight})>${n}`)).join(" ");

/** The GraphStore contract: every adapter (SQLite tables, Neo4j through the outbox) must pass it. */
export function runGraphStoreContract(name: string, factory: GraphFactory): void {
  describe(name, () => {
    const f = fixturePerTest(factory);
    let cid: string;
    beforeEach(async () => {
      cid = (await f.collections.create(newOwner(), { name: "graph", description: null })).id;
    });

    let axis = 0;
    const mem = (id: string, content: string, supplied?: GraphInput): MemoryWrite => ({
      id,
      content,
      metadata: {},
      embedding: axisVector(f.dimensions, axis++ % f.dimensions),
      graph: graphFacts(content, supplied, "auto"),
    });
    const write = async (...items: MemoryWrite[]) => {
      await f.memories.upsert(cid, items);
      await f.settle();
    };
    const paths = async (seeds: string[], maxHops: 1 | 2 = 2, fanout = 25) =>
      (await f.graph.expand(cid, seeds, { maxHops, fanout, limit: 1000 })).map(render).sort();
    const names = async () => (await f.graph.listEntities(cid, { limit: 1000 })).items.map((e) => e.name);

    test("entities are found by normal form, with display name, type and mention count", async () => {
      await write(mem("m1", "Alice's manager is Priya."), mem("m2", "Priya lives in Lisbon."), mem("m3", "I met alice at the station.", { entities: [{ name: "ALICE", type: "Person" }] }));
      expect(await f.graph.findEntities(cid, ["alice", "priya", "nobody"])).toEqual([
        { name: "alice", display: "Alice", type: "name", mentions: 2 },
        { name: "priya", display: "Priya", type: "name", mentions: 2 },
      ]);
      expect(await names()).toEqual(["alice", "lisbon", "priya"]);
    });

    test("expand walks relations both ways and co-occurrences, 1 or 2 hops, never revisiting", async () => {
      await write(mem("m1", "Alice's manager is Priya."), mem("m2", "Priya lives in Lisbon."));
      expect(await paths(["alice"], 1)).toEqual(["alice CO_OCCURS(1)>priya", "alice MANAGER(1)>priya"]);
      expect(await paths(["alice"])).toEqual([
        "alice CO_OCCURS(1)>priya",
        "alice CO_OCCURS(1)>priya CO_OCCURS(1)>lisbon",
        "alice CO_OCCURS(1)>priya LIVES_IN(1)>lisbon",
        "alice MANAGER(1)>priya",
        "alice MANAGER(1)>priya CO_OCCURS(1)>lisbon",
        "alice MANAGER(1)>priya LIVES_IN(1)>lisbon",
      ]);
      expect(await paths(["lisbon"], 2)).toContain("lisbon <LIVES_IN(1)>priya <MANAGER(1)>alice");
      expect(await paths(["nobody"])).toEqual([]);
    });

    test("weights count the memories stating a relation; fan-out keeps the heaviest edges", async () => {
      await write(
        mem("a", "Bob works at Acme."),
        mem("b", "Bob works at Acme since 2019."),
        mem("c", "Bob visited Oslo."),
        mem("d", "Bob visited Rome."),
      );
      const one = await f.graph.expand(cid, ["bob"], { maxHops: 1, fanout: 2, limit: 100 });
      expect(one.map(render).sort()).toEqual(["bob CO_OCCURS(2)>acme", "bob WORKS_AT(2)>acme"]);
      const neighbours = await f.graph.neighbours(cid, "acme", 10);
      expect(neighbours).toContainEqual({ name: "bob", display: "Bob", type: "name", relation: "WORKS_AT", direction: "in", weight: 2 });
      expect(neighbours).toContainEqual({ name: "bob", display: "Bob", type: "name", relation: "CO_OCCURS", direction: "both", weight: 2 });
    });

    test("re-writing the same memory is idempotent; an update replaces its contribution", async () => {
      await write(mem("m1", "Carol lives in Paris."), mem("m2", "Carol lives in Paris, near the river."));
      await write(mem("m1", "Carol lives in Paris."));
      expect(await paths(["carol"], 1)).toEqual(["carol CO_OCCURS(2)>paris", "carol LIVES_IN(2)>paris"]);
      await write(mem("m1", "Carol moved to Berlin."));
      expect(await paths(["carol"], 1)).toEqual([
        "carol CO_OCCURS(1)>berlin",
        "carol CO_OCCURS(1)>paris",
        "carol LIVES_IN(1)>paris",
        "carol MOVED_TO(1)>berlin",
      ]);
      await f.memories.patch(cid, "m2", { graph: graphFacts("Carol lives in Madrid.", undefined, "auto") });
      await f.settle();
      expect(await names()).toEqual(["berlin", "carol", "madrid"]); // paris: no memory mentions it now
      expect(await paths(["carol"], 1)).toEqual([
        "carol CO_OCCURS(1)>berlin",
        "carol CO_OCCURS(1)>madrid",
        "carol LIVES_IN(1)>madrid",
        "carol MOVED_TO(1)>berlin",
      ]);
    });

    test("co-occurrence joins only a memory's first 16 entities; relations beyond them still count", async () => {
      const entities = Array.from({ length: 20 }, (_, i) => ({ name: `e${String(i).padStart(2, "0")}`, type: "thing" }));
      await write(mem("wide", "a memory naming many things", { entities, relations: [{ source: "e00", relation: "NEXT_TO", target: "e19" }] }));
      const coOccurring = (await f.graph.neighbours(cid, "e00", 100)).filter((n) => n.relation === "CO_OCCURS").map((n) => n.name).sort();
      expect(coOccurring).toEqual(entities.slice(1, MAX_CO_OCCURRING_ENTITIES).map((e) => e.name));
      expect(await f.graph.neighbours(cid, "e17", 100)).toEqual([]);
      expect(await f.graph.neighbours(cid, "e19", 100)).toEqual([
        { name: "e00", display: "e00", type: "thing", relation: "NEXT_TO", direction: "in", weight: 1 },
      ]);
      expect((await f.graph.findEntities(cid, ["e17"]))[0]).toMatchObject({ name: "e17", mentions: 1 }); // still an entity of the memory

      // an update that reorders the entities moves the cap with them
      await write(mem("wide", "a memory naming many things", { entities: [...entities].reverse() }));
      expect((await f.graph.neighbours(cid, "e19", 100)).filter((n) => n.relation === "CO_OCCURS")).toHaveLength(MAX_CO_OCCURRING_ENTITIES - 1);
      expect(await f.graph.neighbours(cid, "e00", 100)).toEqual([]);
    });

    test("a delete removes the memory's mentions, edges and orphaned entities", async () => {
      await write(mem("m1", "Dan's sister is Eve."), mem("m2", "Eve lives in Turin."));
      expect(await f.memories.delete(cid, "m2")).toBe(true);
      await f.settle();
      expect(await names()).toEqual(["dan", "eve"]);
      expect(await paths(["eve"])).toEqual(["eve <SISTER(1)>dan", "eve CO_OCCURS(1)>dan"]);
      expect(await f.graph.mentions(cid, ["eve", "turin"], 10)).toEqual([{ entity: "eve", memory_id: "m1" }]);
    });

    test("mentions, newest first and bounded per entity", async () => {
      await write(mem("x1", "Frank called."));
      await write(mem("x2", "Frank wrote."));
      await write(mem("x3", "Frank left."));
      const got = await f.graph.mentions(cid, ["frank"], 2);
      expect(got).toEqual([
        { entity: "frank", memory_id: "x3" },
        { entity: "frank", memory_id: "x2" },
      ]);
    });

    test("listEntities pages by name and filters by substring", async () => {
      await write(mem("p", "Anna, Bella, Cara, Dora and Emma met Fiona."));
      const first = await f.graph.listEntities(cid, { limit: 2 });
      expect(first.items.map((e) => e.name)).toEqual(["anna", "bella"]);
      const second = await f.graph.listEntities(cid, { limit: 10, cursor: first.next_cursor! });
      expect(second.items.map((e) => e.name)).toEqual(["cara", "dora", "emma", "fiona"]);
      expect(second.next_cursor).toBeNull();
      expect((await f.graph.listEntities(cid, { limit: 10, q: "ora" })).items.map((e) => e.name)).toEqual(["dora"]);
    });

    test("collections are isolated, and deleting one removes its graph", async () => {
      await write(mem("m1", "Gina's boss is Hugo."));
      const owner = newOwner();
      const other = (await f.collections.create(owner, { name: "other", description: null })).id;
      expect(await f.graph.findEntities(other, ["gina"])).toEqual([]);
      expect(await f.graph.expand(other, ["gina"], { maxHops: 2, fanout: 10, limit: 10 })).toEqual([]);
      await f.memories.upsert(other, [mem("m1", "Gina's boss is Hugo.")]);
      await f.settle();
      expect((await f.graph.findEntities(other, ["gina"])).length).toBe(1);
      expect(await f.collections.delete(owner, other)).toBe(true);
      await f.settle();
      expect(await f.graph.findEntities(other, ["gina", "hugo"])).toEqual([]);
      expect((await f.graph.listEntities(other, { limit: 10 })).items).toEqual([]);
      expect((await f.graph.findEntities(cid, ["gina", "hugo"])).length).toBe(2);
    });

    test("injection attempts are names like any other: stored and matched literally", async () => {
      const evil = ['x"}) DETACH DELETE n //', "'; MATCH (n) DETACH DELETE n", "a` {b}) RETURN 1 //", "$collection_id"];
      await write(mem("keep", "Ivy's friend is Jack."));
      await write(mem("evil", "nothing to extract here", { entities: evil.map((name) => ({ name, type: "x'}) DELETE (" })), relations: [{ source: evil[0]!, relation: "owns", target: evil[1]! }] }));
      const found = await f.graph.findEntities(cid, evil.map(normaliseName));
      expect(found.map((e) => e.display).sort()).toEqual([...evil].sort());
      expect(found.every((e) => e.type === "x'})_delete_(")).toBe(true);
      expect(await paths([normaliseName(evil[0]!)], 1)).toContain(`${normaliseName(evil[0]!)} OWNS(1)>${normaliseName(evil[1]!)}`);
      expect((await f.graph.findEntities(cid, ["ivy", "jack"])).length).toBe(2);
      expect((await f.memories.get(cid, "keep"))?.content).toBe("Ivy's friend is Jack.");
      expect((await f.graph.listEntities(cid, { limit: 10, q: "detach delete" })).items.length).toBe(2);
    });
  });
}
