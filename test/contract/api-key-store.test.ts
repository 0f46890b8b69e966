import { afterAll, describe } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { openEmbeddedStores } from "../../src/stores/embedded/index.ts";
import { openPostgresStores, type PostgresStores } from "../../src/stores/postgres/index.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { runApiKeyStoreContract } from "./api-key-store.contract.ts";

runApiKeyStoreContract("embedded ApiKeyStore", async () => {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: 8 });
  return { keys: stores.apiKeys, cleanup: async () => stores.close() };
});

const run = await servicesAvailable("postgres api key store contract", ["postgres"]);
const SCHEMA = `keys_contract_${process.pid}_${Date.now().toString(36)}`;
let shared: PostgresStores | undefined;

describe.if(run)("real PostgreSQL", () => {
  // One schema for the file; the suite's tests use fresh owners.
  runApiKeyStoreContract("postgres ApiKeyStore", async () => {
    shared ??= await openPostgresStores({ url: productionConfig.databaseUrl, schema: SCHEMA, poolSize: 4, log: silentLogger, writers: [] });
    return { keys: shared.apiKeys, cleanup: async () => {} };
  });

  afterAll(async () => {
    if (shared === undefined) return;
    await shared.close();
    const { Client } = await import("pg");
    const client = new Client({ connectionString: productionConfig.databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.end();
  });
});
