import { afterAll, describe, expect, test } from "bun:test";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { silentLogger } from "../../src/log.ts";
import { type MilvusIndex, openMilvusIndex } from "../../src/stores/milvus/index.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { FreshTailVectorIndex } from "../../src/search/fresh-tail-index.ts";
import { MATCH_ALL, type Hit, type SearchFilter } from "../../src/domain/search.ts";
import { runVectorIndexContract } from "../ports/vector-index.contract.ts";
import { ids, newCollection, write } from "../ports/contract-setup.ts";
import { queryVector, randomUnit } from "../ports/vectors.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { dropSchema, RUN_ID } from "./service-setup.ts";

/**
 * The fresh tail on the real services: PostgreSQL's outbox rows for Milvus that the dispatcher
 * has not delivered, merged into Milvus's hits. The dispatcher's loop is off here, so nothing
 * reaches Milvus until a test drains the outbox: every answer before that comes from the tail.
 */

const DIMENSIONS = 128;
const COLLECTION = `fresh_tail_${RUN_ID}`;
const SCHEMA = `fresh_tail_${RUN_ID}`;

const run = await servicesAvailable("fresh tail", ["milvus", "postgres"]);

describe.if(run)("fresh tail over milvus (postgres outbox not dispatched)", () => {
  let opened: Promise<{ milvus: MilvusIndex; stores: PostgresStores; vectors: FreshTailVectorIndex }> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const milvus = await openMilvusIndex({ address: productionConfig.milvusAddress, collection: COLLECTION, dimensions: DIMENSIONS, replicas: productionConfig.milvusReplicas, log: silentLogger });
      await milvus.warm();
      const stores = await openPostgresStores({
        url: productionConfig.databaseUrl,
        schema: SCHEMA,
        poolSize: 6,
        log: silentLogger,
        writers: [milvus.writer],
        dimensions: DIMENSIONS,
        outbox: { dispatch: false, deferredTargets: [milvus.writer.name] },
      });
      const vectors = new FreshTailVectorIndex(milvus.vectorsCheckingWith(stores.memories), stores.freshTail(milvus.writer.name), silentLogger);
      return { milvus, stores, vectors };
    })());

  afterAll(async () => {
    const o = await opened?.catch(() => undefined);
    if (o !== undefined) {
      await o.stores.close();
      await o.milvus.close();
      const client = new MilvusClient({ address: productionConfig.milvusAddress, logLevel: "error" });
      await client.dropCollection({ collection_name: COLLECTION });
      client.closeConnection();
    }
    await dropSchema(SCHEMA);
  });

  // The whole VectorIndex contract (scores, k, isolation, every filter case) answered by the
  // tail alone: nothing is delivered, so Milvus holds none of these memories.
  runVectorIndexContract("the VectorIndex contract, answered from the tail alone", async () => {
    const o = await open();
    return { collections: o.stores.collections, memories: o.stores.memories, vectors: o.vectors, dimensions: DIMENSIONS, cleanup: async () => {} };
  });

  const fixture = async () => {
    const o = await open();
    return { ...o, collections: o.stores.collections, memories: o.stores.memories, vectors: o.vectors, dimensions: DIMENSIONS, cleanup: async () => {} };
  };
  const deliver = async (stores: PostgresStores) => expect(await stores.outbox.drain(30_000)).toBe(true);

  test("a write is acknowledged without Milvus: its outbox row is still pending, and search finds it", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    const before = (await f.stores.outbox.backlog()).milvus!;
    await f.memories.upsert(id, [write("new", "new", randomUnit(DIMENSIONS, 1))]);
    expect((await f.stores.outbox.backlog()).milvus).toBe(before + 1);
    const hits = await f.vectors.search(id, randomUnit(DIMENSIONS, 1), 3, MATCH_ALL);
    expect(hits[0]).toEqual({ id: "new", score: expect.closeTo(1, 5) });
  });

  test("a pending update replaces the version Milvus holds, and a pending delete removes it", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    const q = queryVector(DIMENSIONS);
    const near = (s: number, axis: number) => {
      const v = new Float32Array(DIMENSIONS);
      v[0] = s;
      v[axis] = Math.sqrt(1 - s * s);
      return v;
    };
    await f.memories.upsert(id, [write("a", "a", near(0.9, 1)), write("b", "b", near(0.8, 2)), write("c", "c", near(0.7, 3))]);
    await deliver(f.stores);
    expect((await f.stores.outbox.backlog()).milvus).toBe(0);

    await f.memories.upsert(id, [write("a", "a moved away", near(0.1, 1), { v: 2 })]);
    await f.memories.delete(id, "b");
    const pending = await f.vectors.search(id, q, 10, MATCH_ALL);
    expect(ids(pending)).toEqual(["c", "a"]);
    expect(pending[1]!.score).toBeCloseTo(0.1, 4);
    // the filter applies to the pending version, not to the one Milvus still holds
    const filtered = await f.vectors.search(id, q, 10, { kind: "metadata", key: "v", op: "eq", value: 2 });
    expect(ids(filtered)).toEqual(["a"]);

    await deliver(f.stores);
    const delivered = await f.vectors.search(id, q, 10, MATCH_ALL);
    expect(ids(delivered)).toEqual(ids(pending));
    delivered.forEach((hit, i) => expect(hit.score).toBeCloseTo(pending[i]!.score, 4));
  });

  test("masked hits are replaced: k results even when pending versions push Milvus's best out", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    const q = queryVector(DIMENSIONS);
    const memories = Array.from({ length: 12 }, (_, i) => {
      const v = new Float32Array(DIMENSIONS);
      v[0] = 0.95 - i * 0.05;
      v[i + 1] = Math.sqrt(1 - v[0] * v[0]);
      return write(`m${i}`, `m${i}`, v);
    });
    await f.memories.upsert(id, memories);
    await deliver(f.stores);
    // the five best are updated far from the query (pending): Milvus's top 5 are all masked
    await f.memories.upsert(id, memories.slice(0, 5).map((m, i) => write(m.id, m.content, randomUnit(DIMENSIONS, 1000 + i).map((x, j) => (j === 0 ? -Math.abs(x) : x)))));
    const hits = await f.vectors.search(id, q, 5, MATCH_ALL);
    expect(ids(hits)).toEqual(["m5", "m6", "m7", "m8", "m9"]);
  });

  test("random inserts, updates and deletes with deliveries in between: always the exact answer", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const state = new Map<string, { v: Float32Array; tag: string }>();
    const q = randomUnit(DIMENSIONS, 99);
    const tagA: SearchFilter = { kind: "metadata", key: "tag", op: "eq", value: "a" };
    const expected = (filter: SearchFilter, k: number): string[] =>
      [...state]
        .filter(([, m]) => filter === MATCH_ALL || m.tag === "a")
        .map(([mid, m]) => ({ id: mid, score: dot(q, m.v) }))
        .sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1))
        .slice(0, k)
        .map((h) => h.id);
    let next = 0;
    let checks = 0;
    for (let step = 0; step < 60; step++) {
      const r = rand();
      const existing = [...state.keys()];
      if (r < 0.45 || existing.length < 3) {
        const mid = `n${next++}`;
        const m = { v: randomUnit(DIMENSIONS, 5000 + step), tag: rand() < 0.5 ? "a" : "b" };
        state.set(mid, m);
        await f.memories.upsert(id, [write(mid, mid, m.v, { tag: m.tag })]);
      } else if (r < 0.75) {
        const mid = existing[Math.floor(rand() * existing.length)]!;
        const m = { v: randomUnit(DIMENSIONS, 9000 + step), tag: rand() < 0.5 ? "a" : "b" };
        state.set(mid, m);
        await f.memories.upsert(id, [write(mid, `${mid}'`, m.v, { tag: m.tag })]);
      } else if (r < 0.9) {
        const mid = existing[Math.floor(rand() * existing.length)]!;
        state.delete(mid);
        expect(await f.memories.delete(id, mid)).toBe(true);
      } else {
        await deliver(f.stores);
      }
      if (step % 3 === 2) {
        for (const filter of [MATCH_ALL, tagA]) {
          const hits: Hit[] = await f.vectors.search(id, q, 8, filter);
          expect(ids(hits)).toEqual(expected(filter, 8));
          checks++;
        }
      }
    }
    expect(checks).toBe(40);
  });
});

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
