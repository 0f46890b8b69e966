/**
 * The API description: /openapi.json is an OpenAPI 3.1 document of every route, with every
 * status a route can answer, the problem+json schema and the bearer scheme; /docs is a page.
 * Documenting the search answer must not touch its bytes (it is a pre-rendered string).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { renderAnswer } from "../../src/search/pipeline";

let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.call("GET", "/openapi.json")).body;
});
afterAll(() => t.close());

/** Every route the app serves, as the document should name it: `GET /v1/collections/{collection_id}`. */
function servedOperations(): string[] {
  const routes = (t.app as unknown as { getGlobalRoutes(): { method: string; path: string; hooks?: any }[] }).getGlobalRoutes();
  return routes
    .filter((r) => !r.hooks?.detail?.hide)
    .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/(.)\/$/, "$1").replace(/:([^/]+)/g, "{$1}")}`)
    .sort();
}

const documentedOperations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();

const operations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    Object.entries<any>(item).map(([method, op]) => ({ method, path, op })),
  );

describe("GET /openapi.json", () => {
  test("is an OpenAPI 3.1 document served as JSON", async () => {
    const reply = await t.call("GET", "/openapi.json");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toContain("application/json");
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: "Memory API", version: "1.0.0" });
  });

  test("documents every route the app serves, and nothing else", () => {
    const served = servedOperations();
    expect(served.length).toBeGreaterThanOrEqual(12);
    expect(documentedOperations()).toEqual(served);
    expect(doc.paths["/openapi.json"]).toBeUndefined();
  });

  test("every operation has a summary, a tag, an operationId and a success response", () => {
    for (const { method, path, op } of operations()) {
      const where = `${method} ${path}`;
      expect({ where, summary: typeof op.summary }).toEqual({ where, summary: "string" });
      expect(op.tags?.length, where).toBeGreaterThan(0);
      expect(typeof op.operationId, where).toBe("string");
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), where).toBe(true);
    }
  });

  test("every /v1 operation needs the bearer scheme, and documents 401, 429 and 503 as problems", () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    const v1 = operations().filter(({ path }) => path.startsWith("/v1/"));
    expect(v1.length).toBeGreaterThanOrEqual(10);
    for (const { method, path, op } of v1) {
      expect({ where: `${method} ${path}`, security: op.security }).toEqual({ where: `${method} ${path}`, security: [{ bearer: [] }] });
      for (const status of ["401", "429", "503"]) {
        expect(op.responses[status]?.content?.["application/problem+json"]?.schema, `${method} ${path} ${status}`).toEqual({
          $ref: "#/components/schemas/Problem",
        });
      }
      expect(op.responses["429"].headers["Retry-After"]).toBeDefined();
      expect(op.responses["503"].headers["Retry-After"]).toBeDefined();
    }
  });

  test("each error a route can answer is documented on it", () => {
    const statuses = (method: string, path: string) => Object.keys(doc.paths[path][method].responses).sort();
    expect(statuses("post", "/v1/collections")).toEqual(["201", "400", "401", "403", "409", "413", "422", "429", "503"]);
    expect(statuses("get", "/v1/collections/{collection_id}")).toEqual(["200", "401", "403", "404", "429", "503"]);
    // 409: a name the owner uses for another collection
    expect(statuses("patch", "/v1/collections/{collection_id}")).toEqual(["200", "400", "401", "403", "404", "409", "413", "422", "429", "503"]);
    // 409: a duplicate with the same Idempotency-Key while the first still runs, or the collection
    // was embedded by another model than the server's (embedding_model_mismatch)
    expect(statuses("post", "/v1/collections/{collection_id}/memories")).toEqual(["201", "400", "401", "403", "404", "409", "413", "422", "429", "503"]);
    expect(statuses("get", "/v1/collections/{collection_id}/memories")).toEqual(["200", "401", "403", "404", "422", "429", "431", "503"]);
    // 409: concurrent writes to the memory kept racing with this one
    expect(statuses("patch", "/v1/collections/{collection_id}/memories/{memory_id}")).toEqual(["200", "400", "401", "403", "404", "409", "413", "422", "429", "503"]);
    expect(statuses("delete", "/v1/collections/{collection_id}/memories/{memory_id}")).toEqual(["204", "401", "403", "404", "429", "503"]);
    expect(statuses("post", "/v1/collections/{collection_id}/memories/delete")).toEqual(["200", "400", "401", "403", "404", "413", "422", "429", "503"]);
    // an API key without the scope or outside its allow-list: 403 on every authenticated route
    expect(statuses("post", "/v1/keys")).toEqual(["201", "400", "401", "403", "404", "409", "413", "422", "429", "503"]);
    expect(statuses("get", "/v1/keys")).toEqual(["200", "401", "403", "404", "429", "503"]);
    expect(statuses("delete", "/v1/keys/{key_id}")).toEqual(["204", "401", "403", "404", "422", "429", "503"]);
    expect(statuses("post", "/v1/search")).toEqual(["200", "400", "401", "403", "404", "409", "413", "422", "429", "503"]);
    expect(statuses("get", "/ready")).toEqual(["200", "503"]);
    expect(statuses("get", "/v1/collections/{collection_id}/export")).toEqual(["200", "401", "403", "404", "422", "429", "431", "503"]);
    // 409: embedding_model_mismatch; 415: a body not sent as application/x-ndjson
    expect(statuses("post", "/v1/collections/{collection_id}/import")).toEqual(["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"]);
  });

  test("the problem schema is RFC 9457 plus code, field and request_id", () => {
    expect(doc.components.schemas.Problem.required.sort()).toEqual(["code", "detail", "status", "title", "type"]);
    expect(Object.keys(doc.components.schemas.Problem.properties).sort()).toEqual(
      ["code", "detail", "field", "request_id", "status", "title", "type"],
    );
  });

  test("request bodies are JSON only (import's NDJSON aside), with the route's schema and limits", () => {
    const ndjson = ["post /v1/collections/{collection_id}/import"];
    for (const { method, path, op } of operations()) {
      if (!op.requestBody) continue;
      const where = `${method} ${path}`;
      expect({ where, types: Object.keys(op.requestBody.content) }).toEqual({
        where,
        types: [ndjson.includes(where) ? "application/x-ndjson" : "application/json"],
      });
    }
    const search = doc.paths["/v1/search"].post.requestBody.content["application/json"].schema;
    expect(search.required).toEqual(["query", "collection_id"]);
    expect(search.properties.query.maxLength).toBe(4096);
    expect(search.additionalProperties).toBe(false);
    const add = doc.paths["/v1/collections/{collection_id}/memories"].post.requestBody.content["application/json"].schema;
    expect(add.properties.memories.maxItems).toBe(1000);
    // a bulk delete names exactly one of ids, filter (never an empty one) and all
    const bulk = doc.paths["/v1/collections/{collection_id}/memories/delete"].post.requestBody.content["application/json"].schema;
    const variants = bulk.anyOf as { required: string[]; additionalProperties: boolean; properties: Record<string, any> }[];
    expect(variants.map((v) => v.required)).toEqual([["ids"], ["filter"], ["all"]]);
    for (const v of variants) {
      expect(v.additionalProperties).toBe(false);
      expect(v.properties.limit).toMatchObject({ minimum: 1, maximum: 1000 });
      expect(v.properties.dry_run.type).toBe("boolean");
    }
    expect(variants[0]!.properties.ids).toMatchObject({ minItems: 1, maxItems: 1000 });
    expect(variants[1]!.properties.filter).toMatchObject({ allOf: [{ $ref: "#/components/schemas/SearchFilter3" }], minProperties: 1 });
    expect(variants[2]!.properties.all.const).toBe(true);
  });

  test("export and import document their NDJSON lines", () => {
    const exported = doc.paths["/v1/collections/{collection_id}/export"].get.responses["200"].content;
    expect(Object.keys(exported)).toEqual(["application/x-ndjson"]);
    expect(exported["application/x-ndjson"].schema.anyOf).toHaveLength(3);
    const imported = doc.paths["/v1/collections/{collection_id}/import"].post;
    const line = imported.requestBody.content["application/x-ndjson"].schema;
    expect(line.required).toEqual(["content"]);
    expect(line.additionalProperties).toBe(false);
    expect(Object.keys(imported.responses["200"].content)).toEqual(["application/x-ndjson"]);
  });

  test("success answers carry their schema; a 204 has no content", () => {
    const answer = doc.paths["/v1/search"].post.responses["200"].content["application/json"].schema;
    expect(answer.required).toEqual(expect.arrayContaining(["results", "cached", "took_ms", "search_type", "top_k", "reranked"]));
    expect(answer.properties.results.items.required).toEqual(["id", "content", "metadata", "score", "created_at"]);
    expect(doc.paths["/v1/collections/{collection_id}"].delete.responses["204"].content).toBeUndefined();
  });
});

describe("GET /docs", () => {
  test("answers an HTML page that loads /openapi.json", async () => {
    const reply = await t.call("GET", "/docs");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toContain("text/html");
    expect(reply.text).toContain("<!doctype html>");
    expect(reply.text).toContain('data-url="/openapi.json"');
  });
});

describe("documenting the search answer leaves it untouched", () => {
  test("the bytes are the pipeline's rendering, key order and all", async () => {
    const token = await t.token("docs-reader");
    const cid = await newCollection(t, token);
    await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "The boiler is serviced every October.", metadata: { room: "basement", n: 1 } }] },
    });
    const request = { query: "when is the boiler serviced", collection_id: cid, search_type: "keyword" as const };
    await t.call("POST", "/v1/search", { token, body: request }); // fills the cache
    const reply = await t.call("POST", "/v1/search", { token, body: request });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe("application/json");
    expect(reply.body.cached).toBe(true);
    // Rebuild the expected bytes from the cached body and the answer's own took_ms.
    const principal = { userId: "docs-reader", tier: "free" as const, exp: Number.MAX_SAFE_INTEGER };
    const outcome = await t.app.pipeline.search(principal, { ...request, top_k: 10, rerank: false, filters: undefined });
    expect(outcome.cached).toBe(true);
    expect(reply.text).toBe(renderAnswer(outcome, reply.body.took_ms));
    expect(reply.text.startsWith('{"cached":true,"took_ms":')).toBe(true);
    expect(reply.body.results[0]).toEqual({
      id: expect.any(String),
      content: "The boiler is serviced every October.",
      metadata: { room: "basement", n: 1 },
      score: expect.any(Number),
      created_at: expect.any(String),
    });
  });
});
