import { afterAll, describe, expect, test } from "bun:test";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import { type MilvusIndex, openMilvusIndex, replicaSettleMs } from "../../src/stores/milvus/index.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { purgeSettled } from "../../src/stores/postgres/settling.ts";
import { FreshTailVectorIndex } from "../../src/search/fresh-tail-index.ts";
import { MATCH_ALL } from "../../src/domain/search.ts";
import { ids, newCollection, sleep, write } from "../ports/contract-setup.ts";
import { randomUnit } from "../ports/vectors.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { dropSchema, RUN_ID } from "./service-setup.ts";

/**
 * Milvus with several query-node replicas (MILVUS_REPLICAS; the stack runs two query nodes and
 * sets 2). A write the writer confirmed on one replica may not be on the replica that serves
 * the next search, so a delivered memory stays in the fresh tail until every replica must hold
 * it (postgres/settling.ts).
 */

const DIMENSIONS = 32;
const COLLECTION = `replicas_${RUN_ID}`;
const SCHEMA = `replicas_${RUN_ID}`;
/** short, so the test sees a memory leave the tail; production uses Milvus' graceful time + 1 s */
const SETTLE_MS = 1500;

const replicated = productionConfig.milvusReplicas > 1;
if (!replicated) console.warn("SKIPPED milvus replicas: MILVUS_REPLICAS is 1 (`bun run stack env` sets 2: the stack runs two query nodes)");
const run = replicated && (await servicesAvailable("milvus replicas", ["milvus", "postgres"]));

describe.if(run)(`milvus with ${productionConfig.milvusReplicas} query-node replicas`, () => {
  let opened: Promise<{ milvus: MilvusIndex; stores: PostgresStores; vectors: FreshTailVectorIndex }> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const milvus = await openMilvusIndex({
        address: productionConfig.milvusAddress,
        collection: COLLECTION,
        dimensions: DIMENSIONS,
        replicas: productionConfig.milvusReplicas,
        log: silentLogger,
      });
      await milvus.warm();
      const stores = await openPostgresStores({
        url: productionConfig.databaseUrl,
        schema: SCHEMA,
        poolSize: 6,
        log: silentLogger,
        writers: [milvus.writer],
        dimensions: DIMENSIONS,
        outbox: { dispatch: false, deferredTargets: [milvus.writer.name], settleMs: { [milvus.writer.name]: SETTLE_MS } },
      });
      const vectors = new FreshTailVectorIndex(milvus.vectorsCheckingWith(stores.memories), stores.freshTail(milvus.writer.name), silentLogger);
      return { milvus, stores, vectors };
    })());
  const client = new MilvusClient({ address: productionConfig.milvusAddress, logLevel: "error" });

  afterAll(async () => {
    const o = await opened?.catch(() => undefined);
    if (o !== undefined) {
      await o.stores.close();
      await o.milvus.close();
      await client.dropCollection({ collection_name: COLLECTION });
    }
    client.closeConnection();
    await dropSchema(SCHEMA);
  });

  const fixture = async () => {
    const o = await open();
    return { ...o, collections: o.stores.collections, memories: o.stores.memories, dimensions: DIMENSIONS, cleanup: async () => {} };
  };

  test("the collection is loaded on as many distinct query nodes as MILVUS_REPLICAS", async () => {
    await open();
    const { collectionID } = await client.describeCollection({ collection_name: COLLECTION });
    const answer = await client.getReplicas({ collectionID });
    const nodes = answer.replicas.map((r) => r.node_ids.map(String).sort().join(","));
    expect(nodes.length).toBe(productionConfig.milvusReplicas);
    expect(new Set(nodes).size).toBe(productionConfig.milvusReplicas);
    for (const n of nodes) expect(n).not.toBe("");
  });

  test("a delivered memory stays in the fresh tail until it has settled on every replica, then leaves it", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    await f.memories.upsert(id, [write("fresh", "fresh", randomUnit(DIMENSIONS, 1))]);
    expect(await f.stores.outbox.drain(30_000)).toBe(true);
    expect((await f.stores.outbox.backlog()).milvus).toBe(0);

    const settling = await f.stores.freshTail("milvus").pending(id);
    expect(settling.present.map((p) => p.memory.id)).toEqual(["fresh"]);

    await sleep(SETTLE_MS + 200);
    expect((await f.stores.freshTail("milvus").pending(id)).present).toEqual([]);
    // the dispatcher's purge forgets it (the loop is off here: called as the loop does)
    const db = new pg.Client({ connectionString: productionConfig.databaseUrl, options: `-c search_path=${SCHEMA}` });
    await db.connect();
    try {
      expect(await purgeSettled(db)).toBeGreaterThanOrEqual(1);
      expect((await db.query("SELECT count(*)::int AS n FROM index_settling WHERE memory_id = 'fresh'")).rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    // and the index alone answers it now
    const hits = await f.vectors.search(id, randomUnit(DIMENSIONS, 1), 1, MATCH_ALL);
    expect(hits[0]).toEqual({ id: "fresh", score: expect.closeTo(1, 4) });
  });

  test("a memory written twice while settling stays until the later delivery has settled", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    await f.memories.upsert(id, [write("twice", "v1", randomUnit(DIMENSIONS, 2))]);
    expect(await f.stores.outbox.drain(30_000)).toBe(true);
    await sleep(SETTLE_MS / 2);
    await f.memories.upsert(id, [write("twice", "v2", randomUnit(DIMENSIONS, 3))]);
    expect(await f.stores.outbox.drain(30_000)).toBe(true);
    await sleep(SETTLE_MS / 2 + 200); // past the first delivery's settling, within the second's
    expect((await f.stores.freshTail("milvus").pending(id)).present.map((p) => p.memory.id)).toEqual(["twice"]);
  });

  test("read-your-writes right after each delivery, over searches that both replicas serve", async () => {
    const f = await fixture();
    const { id } = await newCollection(f);
    for (let round = 0; round < 10; round++) {
      const v = randomUnit(DIMENSIONS, 100 + round);
      await f.memories.upsert(id, [write(`w${round}`, `w${round}`, v)]);
      expect(await f.stores.outbox.drain(30_000)).toBe(true);
      const answers = await Promise.all(Array.from({ length: 8 }, () => f.vectors.search(id, v, 1, MATCH_ALL)));
      for (const hits of answers) expect(ids(hits)).toEqual([`w${round}`]);
    }
  });

  test("a replica count Milvus cannot serve is refused at warm-up with what to do", async () => {
    const name = `${COLLECTION}_count`;
    const opening = (replicas: number) =>
      openMilvusIndex({ address: productionConfig.milvusAddress, collection: name, dimensions: DIMENSIONS, replicas, log: silentLogger });
    const warmError = async (replicas: number) => {
      const index = await opening(replicas);
      try {
        return await index.warm().then(() => undefined, (e: unknown) => e);
      } finally {
        await index.close();
      }
    };
    try {
      expect(await warmError(9)).toHaveProperty("message", expect.stringContaining("MILVUS_REPLICAS=9 needs at least 9 Milvus query nodes"));
      expect(await warmError(1)).toBeUndefined();
      const mismatch = await warmError(2);
      expect(mismatch).toHaveProperty("message", expect.stringContaining("is loaded with 1 replica(s) but MILVUS_REPLICAS=2"));
    } finally {
      await client.dropCollection({ collection_name: name });
    }
  });

  test("production settles for Milvus' graceful time plus a clock margin, and only with several replicas", () => {
    expect(replicaSettleMs(1, 5000)).toBe(0);
    expect(replicaSettleMs(2, 5000)).toBeGreaterThan(5000);
  });
});
