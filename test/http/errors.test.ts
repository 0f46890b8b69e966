import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 64 * 1024 });
  token = await t.token("alice");
  cid = await newCollection(t, token, "errors");
});
afterAll(() => t.close());

function expectProblem(reply: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(reply.status).toBe(status);
  expect(reply.headers.get("content-type")).toContain("application/problem+json");
  expect(reply.body).toMatchObject({ status, code, type: `/problems/${code}` });
}

describe("malformed and invalid input", () => {
  test("malformed JSON is a 400", async () => {
    const reply = await t.call("POST", "/v1/collections", { token, raw: '{"name": "x",' });
    expectProblem(reply, 400, "invalid_json");
  });

  const invalid: [string, string, string, unknown, string][] = [
    ["collection without a name", "POST", "/v1/collections", {}, "name"],
    ["collection with a blank name", "POST", "/v1/collections", { name: "   " }, "name"],
    ["collection with a name too long", "POST", "/v1/collections", { name: "x".repeat(200) }, "name"],
    ["collection with an unknown field", "POST", "/v1/collections", { name: "a", colour: "red" }, "colour"],
    ["memories missing", "POST", "/v1/collections/CID/memories", {}, "memories"],
    ["memories empty", "POST", "/v1/collections/CID/memories", { memories: [] }, "memories"],
    ["memory content wrong type", "POST", "/v1/collections/CID/memories", { memories: [{ content: 5 }] }, "memories[0].content"],
    ["memory content empty", "POST", "/v1/collections/CID/memories", { memories: [{ content: "ok" }, { content: "" }] }, "memories[1].content"],
    ["memory metadata not an object", "POST", "/v1/collections/CID/memories", { memories: [{ content: "a", metadata: [1] }] }, "memories[0].metadata"],
    ["memory id with a slash", "POST", "/v1/collections/CID/memories", { memories: [{ content: "a", id: "a/b" }] }, "memories[0].id"],
    ["metadata too deep", "POST", "/v1/collections/CID/memories", { memories: [{ content: "a", metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } }] }, "memories[0].metadata"],
    ["too many memories", "POST", "/v1/collections/CID/memories", { memories: Array.from({ length: 1001 }, () => ({ content: "a" })) }, "memories"],
    ["search without query", "POST", "/v1/search", { collection_id: "CID" }, "query"],
    ["search with blank query", "POST", "/v1/search", { query: "  ", collection_id: "CID" }, "query"],
    ["search top_k 0", "POST", "/v1/search", { query: "q", collection_id: "CID", top_k: 0 }, "top_k"],
    ["search top_k 101", "POST", "/v1/search", { query: "q", collection_id: "CID", top_k: 101 }, "top_k"],
    ["search top_k fractional", "POST", "/v1/search", { query: "q", collection_id: "CID", top_k: 2.5 }, "top_k"],
    ["search unknown type", "POST", "/v1/search", { query: "q", collection_id: "CID", search_type: "fuzzy" }, "search_type"],
    ["search rerank not boolean", "POST", "/v1/search", { query: "q", collection_id: "CID", rerank: "yes" }, "rerank"],
    ["filter with an unknown operator", "POST", "/v1/search", { query: "q", collection_id: "CID", filters: { metadata: { price: { $regex: "5" } } } }, "filters.metadata.price.$regex"],
    ["filter with an unknown filter", "POST", "/v1/search", { query: "q", collection_id: "CID", filters: { tags: ["a"] } }, "filters.tags"],
    ["filter $in not an array", "POST", "/v1/search", { query: "q", collection_id: "CID", filters: { metadata: { tag: { $in: "a" } } } }, "filters.metadata.tag.$in"],
    ["filter with a bad date", "POST", "/v1/search", { query: "q", collection_id: "CID", filters: { created_after: "yesterday" } }, "filters.created_after"],
    ["filter value an array", "POST", "/v1/search", { query: "q", collection_id: "CID", filters: { metadata: { tag: ["a"] } } }, "filters.metadata.tag"],
    ["NUL in memory content", "POST", "/v1/collections/CID/memories", { memories: [{ content: "ok" }, { content: "a\u0000b" }] }, "memories[1].content"],
    ["NUL in a metadata key", "POST", "/v1/collections/CID/memories", { memories: [{ content: "ok", metadata: { "k\u0000": 1 } }] }, "memories[0].metadata.k\u0000"],
    ["NUL in a collection name", "POST", "/v1/collections", { name: "a\u0000" }, "name"],
    ["NUL in a search query", "POST", "/v1/search", { query: "zebra\u0000", collection_id: "CID" }, "query"],
    ["patch with nothing to change", "PATCH", "/v1/collections/CID/memories/m1", {}, "body"],
  ];

  for (const [name, method, path, body, field] of invalid) {
    test(`${name} → 422 naming ${field}`, async () => {
      const replacedBody = JSON.parse(JSON.stringify(body).replaceAll("CID", cid));
      const reply = await t.call(method, path.replace("CID", cid), { token, body: replacedBody });
      expectProblem(reply, 422, "validation_failed");
      expect(reply.body.field).toBe(field);
      expect(reply.body.detail).toStartWith(`${field}:`);
    });
  }

  test("a bad query parameter names it", async () => {
    const reply = await t.call("GET", `/v1/collections/${cid}/memories?limit=0`, { token });
    expectProblem(reply, 422, "validation_failed");
    expect(reply.body.field).toBe("query.limit");
  });

  test("a garbage cursor is a 422 naming query.cursor", async () => {
    const reply = await t.call("GET", `/v1/collections/${cid}/memories?cursor=bogus`, { token });
    expectProblem(reply, 422, "validation_failed");
    expect(reply.body.field).toBe("query.cursor");
  });

  test("a body over the limit is a 413", async () => {
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "x".repeat(65_000) }, { content: "y".repeat(10_000) }] },
    });
    expectProblem(reply, 413, "payload_too_large");
  });

  test("unknown routes are 404 problems", async () => {
    expectProblem(await t.call("GET", "/nope", { token }), 404, "not_found");
    expectProblem(await t.call("GET", "/v1/unknown/thing", { token }), 404, "not_found");
  });

  test("every response carries a request id, and a given one is echoed", async () => {
    const reply = await t.call("GET", "/v1/collections", { token, headers: { "x-request-id": "req-123" } });
    expect(reply.headers.get("x-request-id")).toBe("req-123");
    const problem = await t.call("POST", "/v1/collections", { token, raw: "{", headers: { "x-request-id": "req-456" } });
    expect(problem.body.request_id).toBe("req-456");
    expect(problem.headers.get("x-request-id")).toBe("req-456");
    const generated = await t.call("GET", "/health");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
