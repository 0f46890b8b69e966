/**
 * Memory expiry through the API: `ttl_seconds` / `expires_at` on write and on PATCH; an expired
 * memory vanishes from get, list and every search type at its time, cached answers included;
 * the sweeper purges it (the derived indexes follow) and its history records `expire`. A test
 * clock moves time here; test/e2e/expiry.test.ts waits for a real one-second TTL. Runs on either
 * backend (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { startSweepers } from "../../src/maintenance/sweepers";
import { silentLogger } from "../../src/log";
import { MATCH_ALL } from "../../src/domain/search";

let t: TestApp;
let token: string;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
const SEARCH_TYPES = ["semantic", "keyword", "hybrid", "graph"] as const;

beforeAll(async () => {
  t = await createTestApp({ now });
  token = await t.token(`expiry-${crypto.randomUUID()}`);
});
afterAll(() => t.close());

const memoriesOf = (cid: string) => `/v1/collections/${cid}/memories`;
const search = (cid: string, query: string, searchType: string) =>
  t.call("POST", "/v1/search", { token, body: { collection_id: cid, query, search_type: searchType, top_k: 10 } });
const idsOf = (reply: { body: { results: { id: string }[] } }) => reply.body.results.map((r) => r.id);
const sweep = () =>
  startSweepers({
    expiry: t.backend.expiry,
    log: silentLogger,
    now,
    settings: { expirySweepIntervalSeconds: 0, historyRetentionDays: 0, historyPruneIntervalSeconds: 3600 },
  });

describe("a memory with a TTL", () => {
  let cid: string;
  let writtenAt: number;
  beforeAll(async () => {
    offsetMs = 0;
    cid = await newCollection(t, token);
    writtenAt = now();
    const reply = await t.call("POST", memoriesOf(cid), {
      token,
      body: {
        memories: [
          { id: "brief", content: "Zelda Quartermain borrowed the lighthouse keys.", ttl_seconds: 60 },
          { id: "lasting", content: "Zelda Quartermain repaired the lighthouse lamp." },
        ],
      },
    });
    expect(reply.status).toBe(201);
    await t.backend.settle();
  });
  afterAll(() => {
    offsetMs = 0;
  });

  test("shows its expires_at; the lasting one shows null", async () => {
    const brief = await t.call("GET", `${memoriesOf(cid)}/brief`, { token });
    expect(brief.status).toBe(200);
    const expiresAt = Date.parse(brief.body.expires_at);
    expect(expiresAt - writtenAt).toBeGreaterThanOrEqual(60_000);
    expect(expiresAt - writtenAt).toBeLessThan(61_000);
    expect((await t.call("GET", `${memoriesOf(cid)}/lasting`, { token })).body.expires_at).toBeNull();
  });

  test("vanishes from get, list and every search type at its time, cached answers included", async () => {
    for (const type of SEARCH_TYPES) {
      const first = await search(cid, "Zelda Quartermain lighthouse", type);
      expect({ type, status: first.status }).toEqual({ type, status: 200 });
      expect({ type, ids: idsOf(first).sort() }).toEqual({ type, ids: ["brief", "lasting"] });
      expect(first.body.results.find((r: { id: string }) => r.id === "brief").expires_at).toBeString();
      const again = await search(cid, "Zelda Quartermain lighthouse", type);
      expect({ type, cached: again.body.cached }).toEqual({ type, cached: true });
    }
    // one millisecond before its time it is still there (and the cache still answers)
    const expiresAt = Date.parse((await t.call("GET", `${memoriesOf(cid)}/brief`, { token })).body.expires_at);
    offsetMs = expiresAt - Date.now() - 1_000;
    expect((await t.call("GET", `${memoriesOf(cid)}/brief`, { token })).status).toBe(200);
    offsetMs = expiresAt - Date.now() + 1;
    expect((await t.call("GET", `${memoriesOf(cid)}/brief`, { token })).status).toBe(404);
    const listed = await t.call("GET", memoriesOf(cid), { token });
    expect(listed.body.memories.map((m: { id: string }) => m.id)).toEqual(["lasting"]);
    for (const type of SEARCH_TYPES) {
      const after = await search(cid, "Zelda Quartermain lighthouse", type);
      expect({ type, ids: idsOf(after) }).toEqual({ type, ids: ["lasting"] });
      expect({ type, cached: after.body.cached }).toEqual({ type, cached: false });
    }
    // where it was the best hit, the next one takes its place (the index still holds it until the purge)
    for (const type of SEARCH_TYPES) {
      const top = await t.call("POST", "/v1/search", {
        token,
        body: { collection_id: cid, query: "Zelda Quartermain borrowed the lighthouse keys", search_type: type, top_k: 1 },
      });
      expect({ type, ids: idsOf(top) }).toEqual({ type, ids: ["lasting"] });
    }
    // it cannot be changed or deleted any more: it is gone
    expect((await t.call("PATCH", `${memoriesOf(cid)}/brief`, { token, body: { metadata: { a: 1 } } })).status).toBe(404);
    expect((await t.call("DELETE", `${memoriesOf(cid)}/brief`, { token })).status).toBe(404);
  });

  test("the sweeper purges it through the delete path; its history ends with expire", async () => {
    const sweepers = sweep();
    try {
      expect(await sweepers.purgeExpired()).toBe(1);
      expect(await sweepers.purgeExpired()).toBe(0); // idempotent
    } finally {
      await sweepers.stop();
    }
    await t.backend.settle();
    const history = await t.call("GET", `${memoriesOf(cid)}/brief/history`, { token });
    expect(history.status).toBe(200);
    const ops = history.body.history.map((h: { op: string; by: string | null }) => [h.op, h.by]);
    expect(ops).toEqual([
      ["create", expect.any(String)],
      ["expire", null],
    ]);
    const expired = history.body.history[1];
    expect(expired.old.content).toBe("Zelda Quartermain borrowed the lighthouse keys.");
    expect(expired.new).toBeNull();
    // the vector index no longer holds it (production: Milvus got the delete through the outbox)
    const [vector] = await (await import("../support/embedder")).sharedEmbedder().then((e) => e.embed(["Zelda lighthouse keys"], "query"));
    const hits = await t.backend.vectors.search(cid, vector!, 10, MATCH_ALL);
    expect(hits.map((h) => h.id)).toEqual(["lasting"]);
  });
});

describe("setting and clearing an expiry", () => {
  let cid: string;
  beforeAll(async () => {
    offsetMs = 0;
    cid = await newCollection(t, token);
  });

  test("expires_at on create; PATCH sets ttl_seconds, then null clears it; history shows each", async () => {
    const at = new Date(now() + 3_600_000).toISOString();
    expect((await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "e1", content: "an appointment", expires_at: at }] } })).status).toBe(201);
    expect((await t.call("GET", `${memoriesOf(cid)}/e1`, { token })).body.expires_at).toBe(at);
    const patched = await t.call("PATCH", `${memoriesOf(cid)}/e1`, { token, body: { ttl_seconds: 120 } });
    expect(patched.status).toBe(200);
    expect(Date.parse(patched.body.expires_at) - now()).toBeLessThanOrEqual(120_000);
    expect(patched.body.content).toBe("an appointment");
    const cleared = await t.call("PATCH", `${memoriesOf(cid)}/e1`, { token, body: { expires_at: null } });
    expect(cleared.body.expires_at).toBeNull();
    const history = (await t.call("GET", `${memoriesOf(cid)}/e1/history`, { token })).body.history;
    expect(history.map((h: { op: string; new: { expires_at: string | null } }) => [h.op, h.new.expires_at])).toEqual([
      ["create", at],
      ["patch", patched.body.expires_at],
      ["patch", null],
    ]);
    // a cleared expiry never fires
    offsetMs = 10 * 365 * 86_400_000;
    try {
      expect((await t.call("GET", `${memoriesOf(cid)}/e1`, { token })).status).toBe(200);
    } finally {
      offsetMs = 0;
    }
  });

  test("an upsert replaces the expiry with its own (none when it gives none)", async () => {
    await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "u1", content: "first", ttl_seconds: 30 }] } });
    await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "u1", content: "second" }] } });
    expect((await t.call("GET", `${memoriesOf(cid)}/u1`, { token })).body).toMatchObject({ content: "second", expires_at: null });
  });

  test("writing the id of an expired, unpurged memory creates it anew (history: create, expire, create)", async () => {
    await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "r1", content: "once", ttl_seconds: 5 }] } });
    offsetMs = 6_000;
    try {
      expect((await t.call("GET", `${memoriesOf(cid)}/r1`, { token })).status).toBe(404);
      await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "r1", content: "again" }] } });
      const again = await t.call("GET", `${memoriesOf(cid)}/r1`, { token });
      expect(again.body).toMatchObject({ content: "again", expires_at: null });
      const ops = (await t.call("GET", `${memoriesOf(cid)}/r1/history`, { token })).body.history.map((h: { op: string }) => h.op);
      expect(ops).toEqual(["create", "expire", "create"]);
    } finally {
      offsetMs = 0;
    }
  });

  test("invalid expiries are 422 problems naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ memories: [{ content: "x", ttl_seconds: 0 }] }, "memories[0].ttl_seconds"],
      [{ memories: [{ content: "x", ttl_seconds: 1.5 }] }, "memories[0].ttl_seconds"],
      [{ memories: [{ content: "x", expires_at: "tomorrow" }] }, "memories[0].expires_at"],
      [{ memories: [{ content: "x", expires_at: "2001-01-01T00:00:00Z" }] }, "memories[0].expires_at"],
      [{ memories: [{ content: "x", expires_at: "2099-01-01T00:00:00" }] }, "memories[0].expires_at"],
      [{ memories: [{ content: "ok" }, { content: "x", ttl_seconds: 10, expires_at: "2099-01-01T00:00:00Z" }] }, "memories[1].ttl_seconds"],
    ];
    for (const [body, field] of cases) {
      const reply = await t.call("POST", memoriesOf(cid), { token, body });
      expect({ body, status: reply.status, type: reply.headers.get("content-type") }).toEqual({
        body,
        status: 422,
        type: "application/problem+json",
      });
      expect({ body, detail: reply.body.detail }).toEqual({ body, detail: expect.stringContaining(field) });
    }
    await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ id: "p1", content: "patch me" }] } });
    const both = await t.call("PATCH", `${memoriesOf(cid)}/p1`, { token, body: { ttl_seconds: 5, expires_at: null } });
    expect(both.status).toBe(422);
    expect(both.body.field).toBe("ttl_seconds");
    const past = await t.call("PATCH", `${memoriesOf(cid)}/p1`, { token, body: { expires_at: "2001-01-01T00:00:00Z" } });
    expect(past.status).toBe(422);
    expect(past.body.detail).toContain("must be in the future");
  });
});
