/**
 * Databases made before models were recorded: the migration gives their collections the model
 * that was the default then (all-MiniLM-L6-v2, 384-d, files unknown), which a MiniLM server
 * keeps serving as before and another model's server refuses. Each store is built at schema
 * version 3 by the released migrations, filled, then opened by the current code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import * as sqliteVec from "sqlite-vec";
import { modelKeyOf } from "../../src/domain/embedding-model";
import { silentLogger } from "../../src/log";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";
import { reembedCollection } from "../../src/reembed/reembed";
import { openEmbeddedStores } from "../../src/stores/embedded";
import { embeddedBackend } from "../support/backend";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../../src/stores/embedded/schema";
import { MemorySearchCache } from "../../src/stores/in-process/cache";
import { encodeEmbedding } from "../../src/stores/postgres/embedding";
import { MIGRATIONS as PG_MIGRATIONS } from "../../src/stores/postgres/migrations";
import { openPostgresStores } from "../../src/stores/postgres";
import { createTestApp } from "../support/app";
import { createModelDouble, MINILM_DIR, type ModelDouble } from "../support/model-double";
import { productionConfig, servicesAvailable } from "../support/services";

const LEGACY = "all-minilm-l6-v2@384";
const CONTENTS = ["Green tea is brewed at 80 degrees Celsius.", "The flight to Tokyo leaves from terminal 2."];

let minilm: OnnxEmbedder;
let double: ModelDouble;
let other: OnnxEmbedder;
let vectors: Float32Array[];

beforeAll(async () => {
  double = createModelDouble();
  [minilm, other] = await Promise.all([createOnnxEmbedder({ modelDir: MINILM_DIR }), createOnnxEmbedder({ modelDir: double.dir })]);
  vectors = await minilm.embed(CONTENTS, "document");
});
afterAll(async () => {
  await Promise.all([minilm?.close(), other?.close()]);
  double?.remove();
});

describe("an embedded database of schema version 3", () => {
  const dir = mkdtempSync(join(tmpdir(), "memory-api-legacy-"));
  const path = join(dir, "memory.db");
  const id = crypto.randomUUID();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    const db = new Database(path, { create: true, strict: true });
    sqliteVec.load(db);
    for (const migration of SQLITE_MIGRATIONS.slice(0, 3)) migration(db, { dimensions: 384 });
    db.run("PRAGMA user_version = 3");
    const now = new Date().toISOString();
    db.run("INSERT INTO collections (id, owner, name, description, created_at) VALUES (?, 'legacy-owner', 'old', NULL, ?)", [id, now]);
    CONTENTS.forEach((content, i) => {
      const { seq } = db
        .query("INSERT INTO memories (collection_id, id, content, metadata, created_at, updated_at) VALUES (?, ?, ?, '{}', ?, ?) RETURNING seq")
        .get(id, `m${i}`, content, now, now) as { seq: number };
      db.run("INSERT INTO memory_vectors (rowid, embedding, collection_id) VALUES (?, ?, ?)", [seq, vectors[i]!, id]);
      db.run("INSERT INTO memory_embeddings (seq, embedding) VALUES (?, ?)", [seq, vectors[i]!]);
    });
    db.close();
  });

  test("gets the old default model recorded, and a MiniLM server serves it while another model's refuses", async () => {
    const stores = openEmbeddedStores({ path, dimensions: 384 });
    const backend = embeddedBackend(stores, new MemorySearchCache({ maxEntries: 100 }));
    const a = await createTestApp({ embedder: minilm, backend });
    const b = await createTestApp({ embedder: other, backend });
    try {
      expect(await stores.reembed.collection(id)).toMatchObject({ embedding_model: LEGACY, reembed_target: null, reembed_checkpoint: 0 });
      expect(await stores.reembed.count(id, modelKeyOf(minilm))).toEqual({ total: 2, pending: 2 });
      const token = await a.token("legacy-owner");
      const body = { query: "when does the plane to Japan leave", collection_id: id, top_k: 1 };
      const served = await a.call("POST", "/v1/search", { token, body });
      expect(served.status).toBe(200);
      expect(served.body.results[0].id).toBe("m1");
      const refused = await b.call("POST", "/v1/search", { token, body });
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toContain("was embedded by all-minilm-l6-v2 (384-d)");
      expect((await a.call("POST", `/v1/collections/${id}/memories`, { token, body: { memories: [{ content: "new" }] } })).status).toBe(201);

      // nothing to re-embed for MiniLM, unless forced (which records the exact files)
      const deps = { store: stores.reembed, embedder: minilm, cache: backend.cache };
      expect((await reembedCollection(deps, id, { batch: 8 })).status).toBe("up_to_date");
      expect(await reembedCollection(deps, id, { batch: 8, force: true })).toMatchObject({ status: "done", reembedded: 2, total: 3 });
      expect((await stores.reembed.collection(id))?.embedding_model).toBe(modelKeyOf(minilm));
    } finally {
      stores.close();
    }
  });
});

const postgresUp = await servicesAvailable("legacy PostgreSQL schema", ["postgres"]);

describe.skipIf(!postgresUp)("a PostgreSQL schema of version 3", () => {
  const schema = `legacy_${process.pid}_${Date.now().toString(36)}`;
  const id = crypto.randomUUID();
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: productionConfig.databaseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path = ${schema}`);
    await client.query("CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    for (const [i, sql] of PG_MIGRATIONS.slice(0, 3).entries()) {
      await client.query(sql);
      await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [i + 1]);
    }
    await client.query("INSERT INTO collections (id, owner, name) VALUES ($1, 'legacy-owner', 'old')", [id]);
    await client.query(
      `INSERT INTO memories (collection_id, id, content, embedding, created_at, updated_at) VALUES ($1, 'm0', $2, $3, now(), now())`,
      [id, CONTENTS[0], encodeEmbedding(vectors[0]!)],
    );
  });
  afterAll(async () => {
    await client?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client?.end();
  });

  test("gets the old default model recorded, with its memories left to re-embed", async () => {
    const stores = await openPostgresStores({ url: productionConfig.databaseUrl, schema, poolSize: 2, log: silentLogger, writers: [], dimensions: 384 });
    try {
      const collection = await stores.collections.get("legacy-owner", id);
      expect(collection).toMatchObject({ id, name: "old", embedding_model: LEGACY, reembed_target: null });
      expect(await stores.reembed.count(id, modelKeyOf(other))).toEqual({ total: 1, pending: 1 });
      expect((await stores.memories.get(id, "m0"))?.content).toBe(CONTENTS[0]);
      const deps = { store: stores.reembed, embedder: other, cache: new MemorySearchCache({ maxEntries: 10 }) };
      expect(await reembedCollection(deps, id, { batch: 8 })).toMatchObject({ status: "done", reembedded: 1, total: 1 });
      expect((await stores.collections.get("legacy-owner", id))?.embedding_model).toBe(modelKeyOf(other));
    } finally {
      await stores.close();
    }
  });
});
