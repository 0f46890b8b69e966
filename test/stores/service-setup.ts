/**
 * The set-up the real-service adapter files share (whether they run at all is
 * test/support/services.ts): names of this run's own, so a shared stack is fine and nothing is
 * left behind; PostgreSQL stores feeding derived indexes through the outbox as production
 * composes them (replicas included, when configured); a connected Redis client.
 */
import { afterAll, expect } from "bun:test";
import type Redis from "ioredis";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import type { IndexWriter } from "../../src/ports/index-writer.ts";
import type { GenerationLedger } from "../../src/ports/generation-ledger.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { createRedisClient } from "../../src/stores/redis/client.ts";
import { productionConfig } from "../support/services.ts";

/** Part of every schema, collection and key prefix this run creates. */
export const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: productionConfig.databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** What the outbox feeds: opened before the stores, closed after them (dropping what the tests wrote). */
export interface DerivedIndexes<I> {
  indexes: I;
  writers: IndexWriter[];
  close(): Promise<void>;
}

/** The stores and their derived indexes, as a contract fixture (shared, so cleanup is a no-op). */
export interface OutboxFixture<I> {
  stores: PostgresStores;
  indexes: I;
  collections: PostgresStores["collections"];
  memories: PostgresStores["memories"];
  dimensions: number;
  /** Resolves once the outbox delivered every write so far (fails the test if it cannot in drainMs). */
  settle(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * PostgreSQL stores in `schema`, feeding `openIndexes()`'s writers through the outbox: opened by
 * the first test that asks and shared by the file's suites (they use fresh owners and
 * collections); closed, and the schema dropped, after the enclosing describe.
 */
export function sharedOutboxStores<I>(options: {
  schema: string;
  poolSize: number;
  dimensions: number;
  drainMs: number;
  openIndexes(): Promise<DerivedIndexes<I>>;
}): () => Promise<OutboxFixture<I>> {
  let shared: Promise<{ stores: PostgresStores; derived: DerivedIndexes<I> }> | undefined;
  const open = async () => {
    const derived = await options.openIndexes();
    const stores = await openPostgresStores({
      url: productionConfig.databaseUrl,
      // with DATABASE_REPLICA_URLS set (the stack's env), the contracts' reads go through the
      // replica routing: every read-after-write of the contracts checks read-your-writes too
      replicaUrls: productionConfig.databaseReplicaUrls,
      replicaPoolSize: 2,
      schema: options.schema,
      poolSize: options.poolSize,
      log: silentLogger,
      writers: derived.writers,
      dimensions: options.dimensions,
    });
    return { stores, derived };
  };
  afterAll(async () => {
    const opened = await shared?.catch(() => undefined); // a failed open failed its tests already
    if (opened !== undefined) {
      await opened.stores.close();
      await opened.derived.close();
    }
    await dropSchema(options.schema);
  });
  return async () => {
    shared ??= open();
    const { stores, derived } = await shared;
    return {
      stores,
      indexes: derived.indexes,
      collections: stores.collections,
      memories: stores.memories,
      dimensions: options.dimensions,
      settle: async () => {
        expect(await stores.outbox.drain(options.drainMs)).toBe(true);
      },
      cleanup: async () => {},
    };
  };
}

/**
 * PostgreSQL's cache-generation ledger in `schema` (no derived indexes), with a way to make the
 * collections it knows: opened by the first test that asks, closed and dropped after the file.
 */
export function sharedGenerationLedger(schema: string): () => Promise<{
  ledger: GenerationLedger;
  newCollection(): Promise<string>;
  stores: PostgresStores;
}> {
  let shared: Promise<PostgresStores> | undefined;
  afterAll(async () => {
    const stores = await shared?.catch(() => undefined);
    await stores?.close();
    await dropSchema(schema);
  });
  return async () => {
    shared ??= openPostgresStores({ url: productionConfig.databaseUrl, schema, poolSize: 4, log: silentLogger, writers: [] });
    const stores = await shared;
    return {
      stores,
      ledger: stores.cacheGenerations,
      newCollection: async () => (await stores.collections.create(`ledger-${RUN_ID}`, { name: crypto.randomUUID(), description: null })).id,
    };
  };
}

/** A connected client of the stack's Redis; the caller disconnects it. */
export async function openRedisClient(): Promise<Redis> {
  const redis = createRedisClient(productionConfig.redisUrl, silentLogger);
  await redis.connect();
  return redis;
}
