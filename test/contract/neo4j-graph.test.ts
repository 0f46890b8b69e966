import { afterAll, describe, expect } from "bun:test";
import pg from "pg";
import { silentLogger } from "../../src/log.ts";
import { type Neo4jGraph, openNeo4jGraph } from "../../src/stores/neo4j/index.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { type GraphFactory, runGraphStoreContract } from "./graph-store.contract.ts";

const DIMENSIONS = 384;
const SCHEMA = `graph_contract_${process.pid}_${Date.now().toString(36)}`;

const run = await servicesAvailable("neo4j graph contract", ["postgres", "neo4j"]);

let shared: { stores: PostgresStores; neo4j: Neo4jGraph } | undefined;

/**
 * Production as composed: PostgreSQL stores each memory's graph facts, the outbox delivers them
 * to the Neo4j writer, and the contract reads through the Neo4j GraphStore. `settle` drains the
 * outbox, so every assertion sees what the writer made of the memory's current state.
 */
const production: GraphFactory = async () => {
  if (shared === undefined) {
    const neo4j = await openNeo4jGraph({ uri: productionConfig.neo4jUri, user: productionConfig.neo4jUser, password: productionConfig.neo4jPassword, poolSize: 8, log: silentLogger });
    await neo4j.warm();
    const stores = await openPostgresStores({
      url: productionConfig.databaseUrl,
      schema: SCHEMA,
      poolSize: 8,
      log: silentLogger,
      writers: [neo4j.writer],
      dimensions: DIMENSIONS,
    });
    shared = { stores, neo4j };
  }
  const { stores, neo4j } = shared;
  return {
    collections: stores.collections,
    memories: stores.memories,
    graph: neo4j.graph,
    dimensions: DIMENSIONS,
    settle: async () => {
      expect(await stores.outbox.drain(10_000)).toBe(true);
    },
    cleanup: async () => {},
  };
};

describe.if(run)("neo4j graph", () => {
  afterAll(async () => {
    if (shared === undefined) return;
    // remove what the tests wrote to Neo4j: every collection of this schema
    const { rows } = await new pg.Pool({ connectionString: productionConfig.databaseUrl, max: 1 })
      .query<{ id: string }>(`SELECT id::text AS id FROM ${SCHEMA}.collections`)
      .catch(() => ({ rows: [] as { id: string }[] }));
    for (const { id } of rows) await shared.neo4j.writer.deleteCollection(id);
    await shared.stores.close();
    await shared.neo4j.close();
    const client = new pg.Client({ connectionString: productionConfig.databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.end();
  });

  runGraphStoreContract("neo4j GraphStore (PostgreSQL → outbox → Neo4j)", production);
});
