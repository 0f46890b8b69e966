import { afterAll, describe, expect } from "bun:test";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import { type MilvusIndex, openMilvusIndex } from "../../src/stores/milvus/index.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import type { StoreFactory } from "./fixture.ts";
import { runVectorIndexContract } from "./vector-index.contract.ts";

const DIMENSIONS = 384;
const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;
/** This run's own Milvus collection and Postgres schema: a shared stack is fine, and both are dropped after. */
const MILVUS_COLLECTION = `contract_${RUN_ID}`;
const PG_SCHEMA = `milvus_contract_${RUN_ID}`;

const run = await servicesAvailable("milvus contract", ["milvus", "postgres"]);

let shared: { postgres: PostgresStores; milvus: MilvusIndex } | undefined;

/** PostgreSQL as the source of truth feeding Milvus through its outbox, as in production. */
const milvus: StoreFactory = async () => {
  if (shared === undefined) {
    const index = await openMilvusIndex({
      address: productionConfig.milvusAddress,
      collection: MILVUS_COLLECTION,
      dimensions: DIMENSIONS,
      log: silentLogger,
    });
    await index.warm();
    const postgres = await openPostgresStores({
      url: productionConfig.databaseUrl,
      schema: PG_SCHEMA,
      poolSize: 6,
      log: silentLogger,
      writers: [index.writer],
      dimensions: DIMENSIONS,
    });
    shared = { postgres, milvus: index };
  }
  const { postgres, milvus: index } = shared;
  return {
    collections: postgres.collections,
    memories: postgres.memories,
    vectors: index.vectors,
    dimensions: DIMENSIONS,
    settle: async () => {
      expect(await postgres.outbox.drain(15_000)).toBe(true);
    },
    cleanup: async () => {},
  };
};

describe.if(run)("milvus", () => {
  afterAll(async () => {
    await shared?.postgres.close();
    await shared?.milvus.close();
    const client = new MilvusClient({ address: productionConfig.milvusAddress, logLevel: "error" });
    await client.dropCollection({ collection_name: MILVUS_COLLECTION });
    client.closeConnection();
    const db = new pg.Client({ connectionString: productionConfig.databaseUrl });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    await db.end();
  });

  runVectorIndexContract("milvus VectorIndex (fed by the postgres outbox)", milvus);
});
