/**
 * A collection records the model that embedded it, and a server with another model refuses to
 * mix vectors: writes that embed text and searches by meaning answer 409
 * `embedding_model_mismatch`, naming both models and the command that migrates; reads, deletes,
 * metadata changes and keyword search keep working. Two servers (apps) over the same stores:
 * one with all-MiniLM-L6-v2, one with a second model (test/support/model-double.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { createModelDouble, DOUBLE_MODEL_NAME, MINILM_DIR, type ModelDouble } from "../support/model-double";

let double: ModelDouble;
let minilm: OnnxEmbedder;
let other: OnnxEmbedder;
let a: TestApp; // the server with all-MiniLM-L6-v2
let b: TestApp; // a server over the same stores with the other model
let token: string;

beforeAll(async () => {
  double = createModelDouble();
  [minilm, other] = await Promise.all([createOnnxEmbedder({ modelDir: MINILM_DIR }), createOnnxEmbedder({ modelDir: double.dir })]);
  a = await createTestApp({ embedder: minilm });
  b = await createTestApp({ embedder: other, backend: a.backend });
  token = await a.token("model-owner");
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await Promise.all([minilm?.close(), other?.close()]);
  double?.remove();
});

const search = (app: TestApp, collection_id: string, search_type: string, query = "tea") =>
  app.call("POST", "/v1/search", { token, body: { query, collection_id, search_type, top_k: 5 } });

describe("a collection embedded by another model than the server's", () => {
  let id: string;
  let mid: string;
  beforeAll(async () => {
    id = await newCollection(a, token);
    const added = await a.call("POST", `/v1/collections/${id}/memories`, {
      token,
      body: {
        memories: [
          { content: "Green tea is brewed at 80 degrees Celsius.", metadata: { topic: "tea" } },
          { content: "Alice moved to Lisbon in 2019 and works at Acme.", metadata: { topic: "people" } },
        ],
      },
    });
    expect(added.status).toBe(201);
    mid = added.body.ids[0];
    await a.backend.settle();
  });

  test("refuses semantic, hybrid and graph search with a problem naming both models and the migration", async () => {
    for (const type of ["semantic", "hybrid", "graph"]) {
      const reply = await search(b, id, type, "Alice Lisbon tea");
      expect({ type, status: reply.status, code: reply.body.code }).toEqual({ type, status: 409, code: "embedding_model_mismatch" });
      expect(reply.headers.get("content-type")).toContain("application/problem+json");
      expect(reply.body.detail).toContain("was embedded by all-minilm-l6-v2 (384-d");
      expect(reply.body.detail).toContain(`this server embeds with ${DOUBLE_MODEL_NAME} (384-d`);
      expect(reply.body.detail).toContain(`bun run reembed --collection ${id}`);
    }
  });

  test("refuses writes that embed text, with the same problem", async () => {
    const added = await b.call("POST", `/v1/collections/${id}/memories`, { token, body: { memories: [{ content: "Oolong is partly oxidised." }] } });
    expect(added.status).toBe(409);
    expect(added.body.code).toBe("embedding_model_mismatch");
    expect(added.body.detail).toContain("writes that embed text are refused");
    expect(added.body.detail).toContain(`bun run reembed --collection ${id}`);
    const patched = await b.call("PATCH", `/v1/collections/${id}/memories/${mid}`, { token, body: { content: "Black tea: 95 degrees." } });
    expect(patched.status).toBe(409);
    expect(patched.body.code).toBe("embedding_model_mismatch");
    // nothing was written
    expect((await a.call("GET", `/v1/collections/${id}/memories/${mid}`, { token })).body.content).toBe("Green tea is brewed at 80 degrees Celsius.");
    expect((await a.call("GET", `/v1/collections/${id}/memories`, { token })).body.memories).toHaveLength(2);
  });

  test("keeps reads, keyword search, metadata changes and deletes working", async () => {
    const keyword = await search(b, id, "keyword", "green tea");
    expect(keyword.status).toBe(200);
    expect(keyword.body.results.map((r: { id: string }) => r.id)).toEqual([mid]);
    expect((await b.call("GET", `/v1/collections/${id}`, { token })).status).toBe(200);
    const listed = await b.call("GET", `/v1/collections/${id}/memories`, { token });
    expect(listed.status).toBe(200);
    expect(listed.body.memories).toHaveLength(2);
    expect((await b.call("GET", `/v1/collections/${id}/memories/${mid}`, { token })).status).toBe(200);
    const patched = await b.call("PATCH", `/v1/collections/${id}/memories/${mid}`, { token, body: { metadata: { topic: "tea", checked: true } } });
    expect(patched.status).toBe(200);
    expect(patched.body.metadata).toEqual({ topic: "tea", checked: true });
    const extra = await a.call("POST", `/v1/collections/${id}/memories`, { token, body: { memories: [{ id: "gone", content: "to delete" }] } });
    expect(extra.status).toBe(201);
    expect((await b.call("DELETE", `/v1/collections/${id}/memories/gone`, { token })).status).toBe(204);
  });

  test("the server with the collection's own model serves it as before", async () => {
    await a.backend.settle();
    const semantic = await search(a, id, "semantic", "how hot should the water be for green tea");
    expect(semantic.status).toBe(200);
    expect(semantic.body.results[0].id).toBe(mid);
  });
});

test("a collection records the model of the server that created it", async () => {
  const created = await newCollection(b, token);
  expect((await b.call("POST", `/v1/collections/${created}/memories`, { token, body: { memories: [{ content: "Matcha is powdered green tea." }] } })).status).toBe(201);
  await b.backend.settle();
  const own = await search(b, created, "semantic", "powdered tea");
  expect(own.status).toBe(200);
  expect(own.body.results).toHaveLength(1);
  const foreign = await search(a, created, "semantic", "powdered tea");
  expect(foreign.status).toBe(409);
  expect(foreign.body.detail).toContain(`was embedded by ${DOUBLE_MODEL_NAME}`);
  expect(foreign.body.detail).toContain("this server embeds with all-minilm-l6-v2");
  const state = await a.backend.reembed.collection(created);
  expect(state?.embedding_model).toBe(`${DOUBLE_MODEL_NAME}@384#${other.fingerprint}`);
  expect(state?.reembed_target).toBeNull();
});

test("models with the same name but other files are told apart by their fingerprint", () => {
  expect(minilm.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  expect(other.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  // the same ONNX file and tokenizer, other prefixes: other vectors, another fingerprint
  expect(other.fingerprint).not.toBe(minilm.fingerprint);
});
