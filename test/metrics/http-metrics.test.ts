/**
 * GET /metrics through the public API: request durations by route template and status, the
 * search cache counters, rate-limit rejections by tier. Runs on either backend
 * (TEST_BACKEND=production for the real services).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import type { Tier } from "../../src/auth/claims";
import { afterResponses, parseExposition, type Exposition } from "./exposition";

const DURATION = "memory_api_http_request_duration_seconds";

async function scrape(t: TestApp): Promise<Exposition> {
  await afterResponses();
  const reply = await t.call("GET", "/metrics");
  expect(reply.status).toBe(200);
  expect(reply.headers.get("content-type")).toContain("text/plain");
  return parseExposition(reply.text);
}

/** Request count of a route (template matched with or without its trailing slash). */
function count(m: Exposition, method: string, route: string, status: number): number {
  return m
    .find(`${DURATION}_count`, { method, status: String(status) })
    .filter((s) => s.labels.route!.replace(/\/$/, "") === route.replace(/\/$/, ""))
    .reduce((sum, s) => sum + s.value, 0);
}

describe("GET /metrics", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  test("answers Prometheus text without a token", async () => {
    const reply = await t.call("GET", "/metrics");
    expect(reply.status).toBe(200);
    const m = parseExposition(reply.text);
    expect(m.types.get(DURATION)).toBe("histogram");
    expect(m.types.get("memory_api_search_cache_hits_total")).toBe("counter");
    expect(m.value("memory_api_build_info")).toBe(1);
  });

  test("request durations are labelled by method, route template and final status, never the raw path", async () => {
    const token = await t.token("metrics-routes");
    const cid = await newCollection(t, token);
    const before = await scrape(t);
    const memoriesRoute = "/v1/collections/:collection_id/memories";
    const memoryRoute = "/v1/collections/:collection_id/memories/:memory_id";

    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ id: "m1", content: "metrics are counted by route template" }] },
    });
    expect(added.status).toBe(201);
    expect((await t.call("GET", `/v1/collections/${cid}/memories/m1`, { token })).status).toBe(200);
    expect((await t.call("GET", `/v1/collections/${cid}/memories/m1`, { token })).status).toBe(200);
    expect((await t.call("GET", `/v1/collections/${cid}/memories/absent`, { token })).status).toBe(404);
    expect((await t.call("GET", `/no/such/${cid}/path`, { token })).status).toBe(404);
    expect((await t.call("POST", "/v1/collections", { token, raw: "{" })).status).toBe(400);
    expect((await t.call("GET", "/v1/collections")).status).toBe(401);

    const after = await scrape(t);
    const delta = (method: string, route: string, status: number) =>
      count(after, method, route, status) - count(before, method, route, status);
    expect(delta("POST", memoriesRoute, 201)).toBe(1);
    expect(delta("GET", memoryRoute, 200)).toBe(2);
    expect(delta("GET", memoryRoute, 404)).toBe(1);
    expect(delta("GET", "unmatched", 404)).toBe(1);
    expect(delta("POST", "/v1/collections", 400)).toBe(1);
    expect(delta("GET", "/v1/collections", 401)).toBe(1);

    // no label value carries an id or a path a client made up
    for (const sample of after.samples) {
      for (const value of Object.values(sample.labels)) {
        expect(value).not.toContain(cid);
        expect(value).not.toContain("absent");
        expect(value).not.toContain("/no/such");
      }
    }
    // a well-formed histogram: cumulative buckets ending in +Inf = _count
    const labels = { method: "GET", status: "200" };
    const buckets = after.find(`${DURATION}_bucket`, labels).filter((s) => s.labels.route!.startsWith(memoryRoute));
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(buckets.find((b) => b.labels.le === "+Inf")!.value).toBe(count(after, "GET", memoryRoute, 200));
    expect(buckets.some((b) => b.labels.le === "2")).toBe(true); // the p95 > 2 s alert needs this bound
  });

  test("search cache hits and misses move on a repeated search, and the hit ratio follows", async () => {
    const token = await t.token("metrics-cache");
    const cid = await newCollection(t, token);
    await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: "the garage is on level four" }, { content: "dentist on monday" }] },
    });
    await t.backend.settle();
    const search = { query: "where is the garage", collection_id: cid, search_type: "keyword" };
    const before = await scrape(t);

    const first = await t.call("POST", "/v1/search", { token, body: search });
    expect(first.status).toBe(200);
    expect(first.body.cached).toBe(false);
    const afterMiss = await scrape(t);
    expect(afterMiss.value("memory_api_search_cache_misses_total") - before.value("memory_api_search_cache_misses_total")).toBe(1);
    expect(afterMiss.value("memory_api_search_cache_hits_total")).toBe(before.value("memory_api_search_cache_hits_total"));

    const second = await t.call("POST", "/v1/search", { token, body: search });
    expect(second.body.cached).toBe(true);
    const afterHit = await scrape(t);
    const hits = afterHit.value("memory_api_search_cache_hits_total");
    const misses = afterHit.value("memory_api_search_cache_misses_total");
    expect(hits - before.value("memory_api_search_cache_hits_total")).toBe(1);
    expect(misses).toBe(afterMiss.value("memory_api_search_cache_misses_total"));
    expect(afterHit.value("memory_api_search_cache_hit_ratio")).toBeCloseTo(hits / (hits + misses), 6);
    expect(count(afterHit, "POST", "/v1/search", 200) - count(before, "POST", "/v1/search", 200)).toBe(2);
  });
});

describe("rate-limit rejections by tier", () => {
  let t: TestApp;
  const rejected: Tier[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      rateLimit: {
        limiter: new InProcessRateLimiter(),
        perMinute: { free: 2, starter: 100, pro: 100, enterprise: 100 },
        onRejected: (tier) => rejected.push(tier),
      },
    });
  });
  afterAll(() => t.close());

  test("a 429 counts under its tier; /metrics itself is never limited", async () => {
    const free = await t.token("metrics-free", "free");
    const pro = await t.token("metrics-pro", "pro");
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.call("GET", "/v1/collections", { token: free })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await t.call("GET", "/v1/collections", { token: pro })).status).toBe(200);

    for (let i = 0; i < 5; i++) expect((await t.call("GET", "/metrics")).status).toBe(200);
    const m = await scrape(t);
    expect(m.value("memory_api_rate_limit_rejections_total", { tier: "free" })).toBe(1);
    expect(m.value("memory_api_rate_limit_rejections_total", { tier: "pro" })).toBe(0);
    expect(m.find("memory_api_rate_limit_rejections_total").map((s) => s.labels.tier).sort()).toEqual(
      ["enterprise", "free", "pro", "starter"],
    );
    expect(count(m, "GET", "/v1/collections", 429)).toBe(1);
    expect(rejected).toEqual(["free"]); // the policy's own hook still runs
  });
});

describe("one registry per app", () => {
  test("two apps in one process count separately", async () => {
    const a = await createTestApp();
    const b = await createTestApp();
    try {
      for (let i = 0; i < 3; i++) await a.call("GET", "/health");
      await b.call("GET", "/health");
      expect(count(await scrape(a), "GET", "/health", 200)).toBe(3);
      expect(count(await scrape(b), "GET", "/health", 200)).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
