/**
 * Re-embedding a collection with the server's model while it keeps serving (the engine behind
 * `bun run reembed`, over the backend's stores: embedded, or PostgreSQL + Milvus with
 * TEST_BACKEND=production). Both embedders are batch-invariant, so a vector depends only on its
 * text and "re-embedded" can be compared with "ingested fresh" score for score.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { modelKeyOf } from "../../src/domain/embedding-model";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";
import type { Embedder } from "../../src/ports/embedder";
import { reembedCollection, ReembedError, type ReembedProgress } from "../../src/reembed/reembed";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { createModelDouble, DOUBLE_MODEL_NAME, MINILM_DIR, type ModelDouble } from "../support/model-double";

const CORPUS = [
  "Green tea is brewed at 80 degrees Celsius for two minutes.",
  "Alice moved to Lisbon in 2019 and works at Acme as an engineer.",
  "The quarterly report is due on the first Monday of April.",
  "Bob's daughter plays the violin in the city youth orchestra.",
  "Our wifi password was changed to a longer passphrase last week.",
  "The dentist appointment was moved to Thursday at 3 pm.",
  "Sourdough needs a starter fed with flour and water every day.",
  "The team decided to migrate the database to PostgreSQL 16.",
  "Carol is allergic to peanuts and shellfish.",
  "The car's winter tyres are stored in the garage loft.",
  "Espresso uses finely ground coffee and nine bars of pressure.",
  "The flight to Tokyo leaves from terminal 2 at 9:40.",
];
const QUERIES = [
  "how hot should water be for tea",
  "where does Alice live",
  "food allergies",
  "when is my trip to Japan",
  "coffee brewing",
];

let double: ModelDouble;
let minilm: OnnxEmbedder;
let other: OnnxEmbedder;
let a: TestApp; // a server with all-MiniLM-L6-v2: the collection's model at first
let b: TestApp; // a server with the other model: the one the collection moves to
let token: string;

beforeAll(async () => {
  double = createModelDouble();
  [minilm, other] = await Promise.all([
    createOnnxEmbedder({ modelDir: MINILM_DIR, batchInvariant: true }),
    createOnnxEmbedder({ modelDir: double.dir, batchInvariant: true }),
  ]);
  a = await createTestApp({ embedder: minilm });
  b = await createTestApp({ embedder: other, backend: a.backend });
  token = await a.token("reembed-owner");
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await Promise.all([minilm?.close(), other?.close()]);
  double?.remove();
});

const reembed = (id: string, opts: { batch: number; maxBatches?: number; onProgress?: (p: ReembedProgress) => void }, embedder: Embedder = other) =>
  reembedCollection({ store: a.backend.reembed, embedder, cache: a.backend.cache }, id, opts);

const search = (app: TestApp, collection_id: string, query: string, search_type = "semantic") =>
  app.call("POST", "/v1/search", { token, body: { query, collection_id, search_type, top_k: 5 } });

async function ingest(app: TestApp, id: string, memories: { id: string; content: string }[]): Promise<void> {
  const reply = await app.call("POST", `/v1/collections/${id}/memories`, { token, body: { memories } });
  expect(reply.status).toBe(201);
}

const ranked = (reply: { body: { results: { id: string; score: number }[] } }) =>
  reply.body.results.map((r) => ({ id: r.id, score: Math.round(r.score * 1e4) / 1e4 }));

describe("bun run reembed's engine", () => {
  let id: string;
  const memories = CORPUS.map((content, i) => ({ id: `m${i}`, content }));

  beforeAll(async () => {
    id = await newCollection(a, token);
    await ingest(a, id, memories);
    await a.backend.settle();
  });

  test("an interrupted run stops after its batches and leaves the collection migrating", async () => {
    const progress: ReembedProgress[] = [];
    const first = await reembed(id, { batch: 4, maxBatches: 1, onProgress: (p) => progress.push(p) });
    expect(first).toMatchObject({ status: "stopped", batches: 1, reembedded: 4, total: 12 });
    expect(first.from).toBe(modelKeyOf(minilm));
    expect(first.to).toBe(modelKeyOf(other));
    expect(progress.map((p) => [p.done, p.total])).toEqual([
      [0, 12],
      [4, 12],
    ]);
    expect(progress[1]!.rate).toBeGreaterThan(0);
    expect(progress[1]!.etaSeconds).toBeGreaterThanOrEqual(0);
    const state = await a.backend.reembed.collection(id);
    expect(state).toMatchObject({ embedding_model: modelKeyOf(minilm), reembed_target: modelKeyOf(other) });
    expect(state!.reembed_checkpoint).toBeGreaterThan(0);
  });

  test("during the migration, reads and keyword search work and searches by meaning are refused", async () => {
    for (const app of [a, b]) {
      const listed = await app.call("GET", `/v1/collections/${id}/memories?limit=100`, { token });
      expect(listed.status).toBe(200);
      expect(listed.body.memories).toHaveLength(12);
      expect((await app.call("GET", `/v1/collections/${id}/memories/m3`, { token })).body.content).toBe(CORPUS[3]);
      const keyword = await search(app, id, "violin orchestra", "keyword");
      expect(keyword.status).toBe(200);
      expect(keyword.body.results[0].id).toBe("m3");
      for (const type of ["semantic", "hybrid"]) {
        const refused = await search(app, id, "violin", type);
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe("embedding_model_mismatch");
        expect(refused.body.detail).toContain(`is being re-embedded from all-minilm-l6-v2 (384-d`);
        expect(refused.body.detail).toContain(`to ${DOUBLE_MODEL_NAME} (384-d`);
        // the old model's server will still differ after the flip, and is told so
        expect(refused.body.detail.includes("this server embeds with all-minilm-l6-v2")).toBe(app === a);
      }
    }
  });

  test("during the migration, writes come from the new model's server and are not redone", async () => {
    // A write from the old model's server would add a vector of the wrong space: refused.
    const old = await a.call("POST", `/v1/collections/${id}/memories`, { token, body: { memories: [{ content: "late" }] } });
    expect(old.status).toBe(409);
    expect(old.body.detail).toContain(`is being re-embedded with ${DOUBLE_MODEL_NAME}`);
    // The new model's server writes: a new memory, and a new content for one the run has not reached.
    await ingest(b, id, [{ id: "m12", content: "The spare house key is under the blue flower pot." }]);
    memories.push({ id: "m12", content: "The spare house key is under the blue flower pot." });
    const patched = await b.call("PATCH", `/v1/collections/${id}/memories/m10`, { token, body: { content: "Cold brew steeps coarse coffee for 12 hours." } });
    expect(patched.status).toBe(200);
    memories[10] = { id: "m10", content: "Cold brew steeps coarse coffee for 12 hours." };

    const second = await reembed(id, { batch: 4 });
    // 12 at first, 4 done by the first run, m10 embedded by the write: 7 left; m12 was never old
    expect(second).toMatchObject({ status: "done", reembedded: 7, total: 13 });
    const state = await a.backend.reembed.collection(id);
    expect(state).toMatchObject({ embedding_model: modelKeyOf(other), reembed_target: null, reembed_checkpoint: 0 });
    expect(await a.backend.reembed.count(id, modelKeyOf(other))).toEqual({ total: 13, pending: 0 });
  });

  test("the migrated collection answers as one ingested fresh with the new model", async () => {
    const fresh = await newCollection(b, token);
    await ingest(b, fresh, memories);
    await a.backend.settle();
    for (const query of QUERIES) {
      for (const type of ["semantic", "hybrid"]) {
        const migrated = await search(b, id, query, type);
        const baseline = await search(b, fresh, query, type);
        expect(migrated.status).toBe(200);
        expect({ query, type, results: ranked(migrated) }).toEqual({ query, type, results: ranked(baseline) });
      }
    }
    // and it is now the old model's server that is refused
    const old = await search(a, id, QUERIES[0]!);
    expect(old.status).toBe(409);
    expect(old.body.detail).toContain(`was embedded by ${DOUBLE_MODEL_NAME}`);
  });

  test("a run on a collection already embedded by the model does nothing", async () => {
    expect(await reembed(id, { batch: 4 })).toMatchObject({ status: "up_to_date", reembedded: 0, total: 13 });
  });
});

test("an empty collection flips at once", async () => {
  const id = await newCollection(a, token);
  expect(await reembed(id, { batch: 8 })).toMatchObject({ status: "done", reembedded: 0, total: 0 });
  expect((await search(b, id, "anything")).status).toBe(200);
});

test("a model of other dimensions is refused before anything changes", async () => {
  const id = await newCollection(a, token);
  await ingest(a, id, [{ id: "x", content: "kept as it is" }]);
  const wide: Embedder = {
    model: "some-768-d-model",
    dimensions: 768,
    fingerprint: "0123456789abcdef",
    embed: async () => {
      throw new Error("must not embed");
    },
    close: async () => {},
  };
  const error = await reembed(id, { batch: 8 }, wide).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ReembedError);
  expect((error as Error).message).toContain("holds 384-d vectors and some-768-d-model (768-d, 0123456789ab) makes 768-d ones");
  expect(await a.backend.reembed.collection(id)).toMatchObject({ embedding_model: modelKeyOf(minilm), reembed_target: null });
});
