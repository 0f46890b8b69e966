import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import { contentHash } from "../../src/stores/neo4j/content-hash.ts";
import { type Neo4jGraph, openNeo4jGraph } from "../../src/stores/neo4j/index.ts";
import { DependencyUnavailableError } from "../../src/domain/errors.ts";
import type { IndexedMemory } from "../../src/ports/index-writer.ts";
import { runGraphStoreContract } from "../ports/graph-store.contract.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { silentServer } from "../support/silent-server.ts";
import { dropSchema, RUN_ID, sharedOutboxStores } from "./service-setup.ts";
import { openPostgresStores } from "../../src/stores/postgres/index.ts";
import type { OutboxOptions } from "../../src/stores/postgres/outbox.ts";
import type { MemoryGraph } from "../../src/domain/graph.ts";
import { SettledGraphStore } from "../../src/search/settled-graph-store.ts";

const URI = productionConfig.neo4jUri;
const auth = { user: productionConfig.neo4jUser, password: productionConfig.neo4jPassword };

const CONTRACT_SCHEMA = `graph_contract_${RUN_ID}`;

/** The ids of the collections a schema holds (what the contract wrote to Neo4j). */
async function collectionIds(schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: productionConfig.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id::text AS id FROM ${schema}.collections`).catch(() => ({ rows: [] as { id: string }[] }));
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

const runContract = await servicesAvailable("neo4j graph contract", ["postgres", "neo4j"]);

describe.if(runContract)("neo4j graph", () => {
  /**
   * Production as composed: PostgreSQL stores each memory's graph facts, the outbox delivers them
   * to the Neo4j writer, and the contract reads through the Neo4j GraphStore. `settle` drains the
   * outbox, so every assertion sees what the writer made of the memory's current state.
   */
  const shared = sharedOutboxStores({
    schema: CONTRACT_SCHEMA,
    poolSize: 8,
    dimensions: 384,
    drainMs: 30_000, // the first delivery meets a cold Neo4j (JIT, schema) on a busy 2-core box
    openIndexes: async () => {
      const neo4j = await openNeo4jGraph({ uri: URI, ...auth, poolSize: 8, log: silentLogger });
      await neo4j.warm();
      const close = async () => {
        // remove what the tests wrote to Neo4j: every collection of this schema
        for (const id of await collectionIds(CONTRACT_SCHEMA)) await neo4j.writer.deleteCollection(id);
        await neo4j.close();
      };
      return { indexes: neo4j, writers: [neo4j.writer], close };
    },
  });

  runGraphStoreContract("neo4j GraphStore (PostgreSQL → outbox → Neo4j)", async () => {
    const fixture = await shared();
    return { ...fixture, graph: fixture.indexes.graph };
  });
});

// Neo4j specifics: the writer's nodes and edges, failure modes.

const memory = (collectionId: string, id: string, content = `content of ${id}`, createdAt = "2024-05-01T12:00:00.123Z"): IndexedMemory => ({
  collection_id: collectionId,
  id,
  content,
  metadata: { ignored: true },
  embedding: new Float32Array(4),
  created_at: createdAt,
});

const run = await servicesAvailable("neo4j store", ["neo4j"]);

describe.if(run)("neo4j graph writer", () => {
  let graph: Neo4jGraph;
  const collections: string[] = [];
  const newCollection = (prefix = "c") => {
    const id = `${prefix}-${crypto.randomUUID()}`;
    collections.push(id);
    return id;
  };
  /** Runs a read query and returns plain records. */
  const query = async (cypher: string, params: Record<string, unknown> = {}) => {
    const session = graph.driver.session();
    try {
      return (await session.run(cypher, params)).records.map((r) => r.toObject());
    } finally {
      await session.close();
    }
  };
  const memoriesOf = async (collectionId: string) =>
    query(
      `MATCH (m:Memory {collection_id: $c})
       OPTIONAL MATCH (m)-[r:IN]->(c:Collection)
       RETURN m.id AS id, m.content_hash AS hash, toString(m.created_at) AS created_at, m.content AS content,
              count(r) AS links, collect(c.id) AS linked
       ORDER BY id`,
      { c: collectionId },
    );
  const collectionNodes = async (collectionId: string) =>
    Number((await query("MATCH (c:Collection {id: $c}) RETURN count(c) AS n", { c: collectionId }))[0]!.n);

  beforeAll(async () => {
    graph = await openNeo4jGraph({ uri: URI, ...auth, poolSize: 8, log: silentLogger });
    await graph.warm();
  });

  afterAll(async () => {
    for (const c of collections) await graph.writer.deleteCollection(c);
    await graph.close();
    await graph.close(); // idempotent
  });

  test("edges carry counts, not memory lists; edges written in the old list form are still taken back exactly", async () => {
    const c = newCollection();
    const withFacts = (id: string): IndexedMemory => ({
      ...memory(c, id),
      graph: {
        entities: [
          { name: "ana", display: "Ana", type: "person" },
          { name: "porto", display: "Porto", type: "place" },
        ],
        relations: [
          { source: "ana", relation: "lives_in", target: "porto" },
          { source: "ana", relation: "lives_in", target: "porto" }, // stated twice, counted once
        ],
      },
    });
    const edges = async () =>
      query(
        `MATCH (a:Entity {collection_id: $c})-[r]->(b:Entity) RETURN type(r) AS type, coalesce(r.weight, r.count) AS n, r.memories AS memories ORDER BY type`,
        { c },
      );
    // two memories as the previous writer left them: ids listed on the edges, nothing on the memory nodes
    await graph.writer.upsert([memory(c, "old1"), memory(c, "old2")]);
    await query(
      `MERGE (a:Entity {collection_id: $c, name: 'ana'}) ON CREATE SET a.display = 'Ana', a.type = 'person'
       MERGE (b:Entity {collection_id: $c, name: 'porto'}) ON CREATE SET b.display = 'Porto', b.type = 'place'
       WITH a, b MATCH (m:Memory {collection_id: $c}) WHERE m.id IN ['old1', 'old2']
       REMOVE m.rel_sources, m.rel_labels, m.rel_targets, m.pair_a, m.pair_b
       MERGE (a)-[:MENTIONED_IN]->(m) MERGE (b)-[:MENTIONED_IN]->(m)
       WITH DISTINCT a, b
       CREATE (a)-[:RELATED {relation: 'lives_in', weight: 2, memories: ['old1', 'old2']}]->(b)
       CREATE (a)-[:CO_OCCURS {count: 2, memories: ['old1', 'old2']}]->(b)`,
      { c },
    );
    await graph.writer.upsert([withFacts("new1")]);
    await graph.writer.upsert([withFacts("new1")]); // redelivered: counted once
    expect(await edges()).toEqual([
      { type: "CO_OCCURS", n: 3, memories: ["old1", "old2"] },
      { type: "RELATED", n: 3, memories: ["old1", "old2"] },
    ]);
    await graph.writer.delete(c, ["old1"]);
    await graph.writer.upsert([withFacts("old2")]); // an old memory rewritten: its list entry becomes a recorded contribution
    expect(await edges()).toEqual([
      { type: "CO_OCCURS", n: 2, memories: [] },
      { type: "RELATED", n: 2, memories: [] },
    ]);
    await graph.writer.delete(c, ["new1", "old2"]);
    expect(await edges()).toEqual([]);
    expect(await query("MATCH (e:Entity {collection_id: $c}) RETURN e.name AS name", { c })).toEqual([]);
  });

  test("health is ready once warm, with a latency", async () => {
    const status = await graph.health.check();
    expect(status).toMatchObject({ name: "neo4j", ready: true });
    expect(status.latency_ms).toBeGreaterThanOrEqual(0);
  });

  test("upsert creates a Memory per memory linked to its one Collection; hash and created_at, no content", async () => {
    const c = newCollection();
    await graph.writer.upsert([memory(c, "m1"), memory(c, "m2", "other text", "2024-06-01T00:00:00.000Z")]);
    const rows = await memoriesOf(c);
    expect(rows).toEqual([
      { id: "m1", hash: contentHash("content of m1"), created_at: "2024-05-01T12:00:00.123Z", content: null, links: 1, linked: [c] },
      { id: "m2", hash: contentHash("other text"), created_at: "2024-06-01T00:00:00Z", content: null, links: 1, linked: [c] },
    ]);
    expect(await collectionNodes(c)).toBe(1);
    expect(contentHash("content of m1")).toMatch(/^[0-9a-f]{16}$/);
  });

  test("upsert is idempotent; a changed memory gets its new hash; duplicates in a batch keep the last", async () => {
    const c = newCollection();
    const batch = [memory(c, "a"), memory(c, "b")];
    await graph.writer.upsert(batch);
    await graph.writer.upsert(batch);
    await graph.writer.upsert([memory(c, "a", "first"), memory(c, "a", "changed")]);
    const rows = await memoriesOf(c);
    expect(rows.map((r) => [r.id, r.links])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
    expect(rows[0]!.hash).toBe(contentHash("changed"));
    expect(await collectionNodes(c)).toBe(1);
    const rels = await query("MATCH (:Memory {collection_id: $c})-[r]->() RETURN count(r) AS n", { c });
    expect(Number(rels[0]!.n)).toBe(2);
    await graph.writer.upsert([]);
  });

  test("batches above the transaction size land whole", async () => {
    const c = newCollection();
    await graph.writer.upsert(Array.from({ length: 2500 }, (_, i) => memory(c, `m${i}`)));
    const n = await query("MATCH (m:Memory {collection_id: $c})-[:IN]->(:Collection {id: $c}) RETURN count(m) AS n", { c });
    expect(Number(n[0]!.n)).toBe(2500);
  });

  test("delete removes the memories and their relationships; idempotent; other collections untouched", async () => {
    const a = newCollection();
    const b = newCollection();
    await graph.writer.upsert([memory(a, "x"), memory(a, "y"), memory(a, "z"), memory(b, "x")]);
    await graph.writer.delete(a, ["x", "y", "missing"]);
    await graph.writer.delete(a, ["x", "y", "missing"]);
    await graph.writer.delete(a, []);
    expect((await memoriesOf(a)).map((r) => r.id)).toEqual(["z"]);
    expect((await memoriesOf(b)).map((r) => r.id)).toEqual(["x"]);
    expect(await collectionNodes(a)).toBe(1);
  });

  test("deleteCollection removes the collection's nodes only; idempotent", async () => {
    const a = newCollection();
    const b = newCollection();
    await graph.writer.upsert([...Array.from({ length: 30 }, (_, i) => memory(a, `m${i}`)), memory(b, "m0")]);
    await graph.writer.deleteCollection(a);
    await graph.writer.deleteCollection(a);
    expect(await memoriesOf(a)).toEqual([]);
    expect(await collectionNodes(a)).toBe(0);
    expect((await memoriesOf(b)).map((r) => r.id)).toEqual(["m0"]);
    expect(await collectionNodes(b)).toBe(1);
  });

  test("injection-looking ids and collection ids are stored literally", async () => {
    const c = newCollection(`'}) DETACH DELETE n // $collection_id \\"`);
    const ids = [`x'}) MATCH (n) DETACH DELETE n //`, `$ids`, `a"b\\c`, "{id: 1}", "ünï😀", " "];
    await graph.writer.upsert(ids.map((id) => memory(c, id)));
    expect((await memoriesOf(c)).map((r) => r.id)).toEqual([...ids].sort());
    expect(await collectionNodes(c)).toBe(1);
    await graph.writer.delete(c, [ids[0]!]);
    expect((await memoriesOf(c)).map((r) => r.id)).toEqual(ids.slice(1).sort());
    // Nothing outside was touched: another collection's node still stands.
    const other = newCollection();
    await graph.writer.upsert([memory(other, "keep")]);
    await graph.writer.deleteCollection(c);
    expect(await memoriesOf(c)).toEqual([]);
    expect((await memoriesOf(other)).map((r) => r.id)).toEqual(["keep"]);
  });

  test("the schema is created idempotently, also by workers starting at once", async () => {
    const graphs = await Promise.all([0, 1, 2].map(() => openNeo4jGraph({ uri: URI, ...auth, poolSize: 2, log: silentLogger })));
    await Promise.all(graphs.map((g) => g.close()));
    const constraints = await query("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN name, type, labelsOrTypes, properties");
    expect(constraints).toContainEqual({ name: "memory_key", type: "UNIQUENESS", labelsOrTypes: ["Memory"], properties: ["collection_id", "id"] });
    expect(constraints).toContainEqual({ name: "collection_id", type: "UNIQUENESS", labelsOrTypes: ["Collection"], properties: ["id"] });
    // The uniqueness holds: a second node for one (collection_id, id) is refused.
    const c = newCollection();
    await graph.writer.upsert([memory(c, "dup")]);
    await expect(query("CREATE (:Memory {collection_id: $c, id: 'dup'})", { c })).rejects.toThrow(/already exists/);
  });
});

/** Neo4j fed by a PostgreSQL outbox of its own schema (4-d embeddings), with these outbox options. */
async function neo4jThroughOutbox(schema: string, outbox: OutboxOptions) {
  const neo4j = await openNeo4jGraph({ uri: URI, ...auth, poolSize: 4, log: silentLogger });
  const stores = await openPostgresStores({ url: productionConfig.databaseUrl, schema, poolSize: 4, log: silentLogger, writers: [neo4j.writer], dimensions: 4, outbox });
  return { neo4j, stores };
}

describe.if(runContract)("neo4j poison rows (PostgreSQL outbox → Neo4j)", () => {
  const schema = `neo4j_poison_${RUN_ID}`;
  afterAll(() => dropSchema(schema));

  test("a row Neo4j refuses is split off its batch, dead-lettered after maxAttempts and replayable; the other rows are delivered", async () => {
    const { neo4j, stores } = await neo4jThroughOutbox(schema, { dispatch: false, maxAttempts: 2 });
    const c = await stores.collections.create(`owner-${crypto.randomUUID()}`, { name: "poison", description: null });
    try {
      const facts = (name: string): MemoryGraph => ({ entities: [{ name, display: name, type: "thing" }], relations: [] });
      // A name longer than Neo4j's index key limit (~8 KB): the server refuses it, every time. The
      // API caps names at 200 characters; such a row would come from data written by other means.
      const huge = "x".repeat(40_000);
      await stores.memories.upsert(c.id, [
        { id: "good1", content: "first", metadata: {}, embedding: new Float32Array([1, 0, 0, 0]), graph: facts("alpha") },
        { id: "bad", content: "poison", metadata: {}, embedding: new Float32Array([0, 1, 0, 0]), graph: facts(huge) },
        { id: "good2", content: "second", metadata: {}, embedding: new Float32Array([0, 0, 1, 0]), graph: facts("beta") },
      ]);
      // the write's immediate delivery split the batch: both good memories are in the graph
      expect((await neo4j.graph.findEntities(c.id, ["alpha", "beta"])).map((e) => e.name)).toEqual(["alpha", "beta"]);
      expect(await stores.outbox.backlog()).toEqual({ neo4j: 1 });

      await stores.outbox.round("neo4j", true); // the second failure: dead-lettered
      expect(await stores.outbox.deadLetters()).toEqual({ neo4j: 1 });
      expect(await stores.outbox.backlog()).toEqual({ neo4j: 0 });
      expect(await stores.outbox.drain(2000)).toBe(true);

      // the memory is rewritten with a sane name; replaying the dead letter delivers its current state
      await stores.memories.patch(c.id, "bad", { graph: facts("gamma") });
      expect(await stores.outbox.replay({ target: "neo4j" })).toBe(1);
      expect(await stores.outbox.drain(10_000)).toBe(true);
      expect((await neo4j.graph.findEntities(c.id, ["alpha", "beta", "gamma"])).map((e) => e.name)).toEqual(["alpha", "beta", "gamma"]);
      expect(await stores.outbox.deadLetters()).toEqual({ neo4j: 0 });
    } finally {
      await neo4j.writer.deleteCollection(c.id).catch(() => {});
      await stores.close();
      await neo4j.close();
    }
  });
});

describe.if(runContract)("neo4j as a deferred outbox target (GRAPH_DEFERRED)", () => {
  const schema = `neo4j_deferred_${RUN_ID}`;
  afterAll(() => dropSchema(schema));

  test("a write does not wait for Neo4j; a graph read delivers the collection's pending rows first, and only that collection's", async () => {
    // the dispatcher's loop is off: only the read's own delivery can bring the writes to Neo4j
    const { neo4j, stores } = await neo4jThroughOutbox(schema, { dispatch: false, deferredTargets: ["neo4j"] });
    const settled = new SettledGraphStore(neo4j.graph, stores.pendingWrites(neo4j.writer.name));
    const owner = `owner-${crypto.randomUUID()}`;
    const mine = await stores.collections.create(owner, { name: "deferred", description: null });
    const other = await stores.collections.create(owner, { name: "deferred other", description: null });
    const facts = (...names: string[]): MemoryGraph => ({ entities: names.map((name) => ({ name, display: name, type: "thing" })), relations: [] });
    try {
      await stores.memories.upsert(mine.id, [{ id: "m1", content: "one", metadata: {}, embedding: new Float32Array([1, 0, 0, 0]), graph: facts("kiwi", "lemon") }]);
      await stores.memories.upsert(other.id, [{ id: "o1", content: "other", metadata: {}, embedding: new Float32Array([0, 1, 0, 0]), graph: facts("mango") }]);
      expect(await stores.outbox.backlog()).toEqual({ neo4j: 2 }); // acknowledged, not delivered
      expect(await neo4j.graph.findEntities(mine.id, ["kiwi"])).toEqual([]);

      expect((await settled.findEntities(mine.id, ["kiwi", "lemon"])).map((e) => e.name)).toEqual(["kiwi", "lemon"]);
      expect(await stores.outbox.backlog()).toEqual({ neo4j: 1 }); // the other collection's row waits for its own reader
      expect(await neo4j.graph.findEntities(other.id, ["mango"])).toEqual([]);

      // an update and a delete are equally visible to the next read
      await stores.memories.patch(mine.id, "m1", { graph: facts("kiwi", "papaya") });
      expect((await settled.neighbours(mine.id, "kiwi", 10)).map((n) => n.name)).toEqual(["papaya"]);
      await stores.memories.delete(mine.id, "m1");
      expect(await settled.listEntities(mine.id, { limit: 10 })).toMatchObject({ items: [] });
      expect(await stores.outbox.backlog()).toEqual({ neo4j: 1 });
    } finally {
      await neo4j.writer.deleteCollection(mine.id).catch(() => {});
      await neo4j.writer.deleteCollection(other.id).catch(() => {});
      await stores.close();
      await neo4j.close();
    }
  });
});

describe("neo4j unreachable", () => {
  test("nothing listening: DependencyUnavailableError quickly", async () => {
    const started = performance.now();
    const error = await openNeo4jGraph({ uri: "bolt://127.0.0.1:1", log: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe("neo4j");
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("a server that accepts but never answers: DependencyUnavailableError after the connect timeout", async () => {
    const silent = await silentServer();
    const started = performance.now();
    const error = await openNeo4jGraph({ uri: `bolt://127.0.0.1:${silent.port}`, log: silentLogger, connectTimeoutMs: 500 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    silent.close();
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(elapsed).toBeLessThan(3000);
  });
});
