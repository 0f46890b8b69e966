/**
 * Every bound a client could push on, and what it gets past it: body size (413), query length,
 * batch size, top_k, page size, metadata size and depth, content length (422 naming the field),
 * and the request timeout (503 + Retry-After instead of a hang, with a dependency that never answers).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app";
import { createTokenService } from "../../src/auth/tokens";
import { silentLogger } from "../../src/log";
import { LIMITS } from "../../src/domain/limits";
import type { VectorIndex } from "../../src/ports/vector-index";
import { createTestApp, newCollection, TEST_SECRET, toReply, type TestApp } from "../support/app";
import { openBackend, type Backend } from "../support/backend";
import { sharedEmbedder } from "../support/embedder";

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 256 * 1024 });
  token = await t.token("limits");
  cid = await newCollection(t, token);
});
afterAll(() => t.close());

function expect422(reply: { status: number; body: any }, field: string) {
  expect({ status: reply.status, code: reply.body?.code, field: reply.body?.field }).toEqual({
    status: 422,
    code: "validation_failed",
    field,
  });
  expect(reply.body.detail).toStartWith(`${field}:`);
}

const nested = (depth: number): Record<string, unknown> => (depth === 0 ? { leaf: 1 } : { level: nested(depth - 1) });

describe("limits: at the bound accepted, past it refused naming the field", () => {
  test(`query length: ${LIMITS.queryChars} characters`, async () => {
    const at = await t.call("POST", "/v1/search", { token, body: { query: "q".repeat(LIMITS.queryChars), collection_id: cid, search_type: "keyword" } });
    expect(at.status).toBe(200);
    const past = await t.call("POST", "/v1/search", { token, body: { query: "q".repeat(LIMITS.queryChars + 1), collection_id: cid } });
    expect422(past, "query");
  });

  test(`top_k: 1..${LIMITS.topK}`, async () => {
    const at = await t.call("POST", "/v1/search", { token, body: { query: "q", collection_id: cid, top_k: LIMITS.topK, search_type: "keyword" } });
    expect(at.status).toBe(200);
    expect422(await t.call("POST", "/v1/search", { token, body: { query: "q", collection_id: cid, top_k: LIMITS.topK + 1 } }), "top_k");
    expect422(await t.call("POST", "/v1/search", { token, body: { query: "q", collection_id: cid, top_k: -1 } }), "top_k");
  });

  test(`batch size: ${LIMITS.memoriesPerRequest} memories a request`, async () => {
    const memories = (n: number) => Array.from({ length: n }, (_, i) => ({ content: `m${i}` }));
    expect422(await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: memories(LIMITS.memoriesPerRequest + 1) } }), "memories");
    expect422(await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [] } }), "memories");
  });

  test(`content length: ${LIMITS.contentChars} characters`, async () => {
    const past = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "ok" }, { content: "c".repeat(LIMITS.contentChars + 1) }] },
    });
    expect422(past, "memories[1].content");
  });

  test(`metadata size: ${LIMITS.metadataBytes} bytes`, async () => {
    const big = { blob: "b".repeat(LIMITS.metadataBytes) };
    expect422(await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ content: "a", metadata: big }] } }), "memories[0].metadata");
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ id: "m", content: "a" }] } });
    expect(added.status).toBe(201);
    expect422(await t.call("PATCH", `/v1/collections/${cid}/memories/m`, { token, body: { metadata: big } }), "metadata");
  });

  test(`metadata depth: ${LIMITS.metadataDepth} levels`, async () => {
    const at = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "deep enough", metadata: nested(LIMITS.metadataDepth - 1) }] },
    });
    expect(at.status).toBe(201);
    const past = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "too deep", metadata: nested(LIMITS.metadataDepth) }] },
    });
    expect422(past, "memories[0].metadata");
    expect(past.body.detail).toContain(`deeper than ${LIMITS.metadataDepth}`);
  });

  test(`page size: 1..${LIMITS.pageSize}; cursor at most 256 characters`, async () => {
    expect((await t.call("GET", `/v1/collections/${cid}/memories?limit=${LIMITS.pageSize}`, { token })).status).toBe(200);
    expect422(await t.call("GET", `/v1/collections/${cid}/memories?limit=${LIMITS.pageSize + 1}`, { token }), "query.limit");
    expect422(await t.call("GET", `/v1/collections/${cid}/memories?cursor=${"c".repeat(257)}`, { token }), "query.cursor");
  });

  test("body size: a declared length over MAX_BODY_BYTES is a 413 before it is read", async () => {
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      raw: JSON.stringify({ memories: [{ content: "x".repeat(300 * 1024) }] }),
    });
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe("payload_too_large");
  });

  test("body size: a chunked body (no length) over MAX_BODY_BYTES is a 413 too", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const request = new Request("http://localhost/v1/search", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    expect(request.headers.get("content-length")).toBeNull();
    const reply = await toReply(await t.app.handle(request));
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe("payload_too_large");
  });
});

describe("request timeout", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(await sharedEmbedder());
  });
  afterAll(() => backend.close());

  test("a request stuck on a dependency is answered 503 + Retry-After at REQUEST_TIMEOUT_MS, and the app keeps serving", async () => {
    const stuck: VectorIndex = {
      ...backend.vectors,
      search: () => new Promise(() => {}), // never answers
    };
    Object.setPrototypeOf(stuck, Object.getPrototypeOf(backend.vectors));
    const tokens = createTokenService(TEST_SECRET);
    const app = buildApp({
      tokens,
      collections: backend.collections,
      memories: backend.memories,
      vectors: stuck,
      cache: backend.cache,
      embedder: await sharedEmbedder(),
      healthChecks: [],
      log: silentLogger,
      settings: { cacheTtlSeconds: 0, hybridCandidates: 50, maxBodyBytes: 1024 * 1024, requestTimeoutMs: 300 },
    });
    const bearer = `Bearer ${await tokens.sign({ sub: "slow", tier: "free", ttlSeconds: 600 })}`;
    const call = (path: string, body?: unknown) =>
      app.handle(
        new Request(`http://localhost${path}`, {
          method: body ? "POST" : "GET",
          headers: { authorization: bearer, "content-type": "application/json", "x-request-id": "slow-1" },
          body: body ? JSON.stringify(body) : undefined,
        }),
      );
    const created = await toReply(await call("/v1/collections", { name: "slow" }));
    expect(created.status).toBe(201);

    const reply = await toReply(await call("/v1/search", { query: "anything", collection_id: created.body.id }));
    expect(reply.status).toBe(503);
    expect(reply.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(reply.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(reply.headers.get("x-request-id")).toBe("slow-1");
    expect(reply.body).toMatchObject({ status: 503, code: "overloaded", request_id: "slow-1" });
    expect(reply.body.detail).toContain("300 ms");

    // what does not touch the stuck dependency still answers
    const keyword = await toReply(
      await call("/v1/search", { query: "anything", collection_id: created.body.id, search_type: "keyword" }),
    );
    expect(keyword.status).toBe(200);
    expect((await toReply(await call("/health"))).status).toBe(200);
  });
});
