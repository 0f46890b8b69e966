import { afterAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log";
import type { RateLimitPolicy } from "../../src/auth/plugin";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import { createRedisClient } from "../../src/stores/redis/client";
import { LeasedRateLimiter } from "../../src/stores/shared/leased-rate-limiter";
import type { RateLimiter } from "../../src/ports/rate-limiter";
import { RedisRateLimiter } from "../../src/stores/redis/rate-limiter";
import { createTestApp, type TestApp } from "../support/app";
import { productionConfig, servicesAvailable } from "../support/services";

const budgets = { free: 5, starter: 8, pro: 1000, enterprise: 1000 };
const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function appWith(policy: RateLimitPolicy) {
  const t = await createTestApp({ rateLimit: policy });
  apps.push(t);
  return t;
}

describe("rate limits (in-process)", () => {
  test("exactly the tier's budget passes; every answer has RateLimit headers; the 429 is a problem with Retry-After", async () => {
    const rejected: string[] = [];
    const t = await appWith({ limiter: new InProcessRateLimiter(), perMinute: budgets, onRejected: (tier) => rejected.push(tier) });
    const token = await t.token(`user-${crypto.randomUUID()}`, "free");
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push(await t.call("GET", "/v1/collections", { token }));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    replies.slice(0, 5).forEach((r, i) => {
      expect(r.headers.get("ratelimit-limit")).toBe("5");
      expect(r.headers.get("ratelimit-remaining")).toBe(String(4 - i));
      expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    });
    const limited = replies[5]!;
    expect(limited.headers.get("content-type")).toContain("application/problem+json");
    expect(limited.body).toMatchObject({ status: 429, code: "rate_limited" });
    expect(limited.body.detail).toContain("free plan allows 5 requests a minute");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(rejected).toEqual(["free", "free", "free"]);
  });

  test("budgets follow the tier, per user", async () => {
    const t = await appWith({ limiter: new InProcessRateLimiter(), perMinute: budgets });
    const starter = await t.token(`s-${crypto.randomUUID()}`, "starter");
    const other = await t.token(`f-${crypto.randomUUID()}`, "free");
    const statuses = [];
    for (let i = 0; i < 9; i++) statuses.push((await t.call("GET", "/v1/collections", { token: starter })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect((await t.call("GET", "/v1/collections", { token: other })).status).toBe(200);
  });

  test("search answers (returned as raw responses) carry the headers too", async () => {
    const t = await appWith({ limiter: new InProcessRateLimiter(), perMinute: budgets });
    const token = await t.token(`u-${crypto.randomUUID()}`, "pro");
    const created = await t.call("POST", "/v1/collections", { token, body: { name: "x" } });
    const reply = await t.call("POST", "/v1/search", { token, body: { query: "q", collection_id: created.body.id } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("ratelimit-limit")).toBe("1000");
  });

  test("/health and /ready are exempt", async () => {
    const t = await appWith({ limiter: new InProcessRateLimiter(), perMinute: { ...budgets, free: 1 } });
    for (let i = 0; i < 10; i++) {
      expect((await t.call("GET", "/health")).status).toBe(200);
      expect((await t.call("GET", "/ready")).status).toBe(200);
    }
  });
});

const run = await servicesAvailable("shared rate limits", ["redis"]);
describe.if(run)("rate limits shared through Redis", () => {
  test("two workers spend one budget: exactly N pass across both", async () => {
    // one server, or the cluster of the cluster-mode pass (scripts/test.ts)
    const clients = [createRedisClient(productionConfig.redis, silentLogger), createRedisClient(productionConfig.redis, silentLogger)];
    await Promise.all(clients.map((c) => c.connect()));
    const [a, b] = await Promise.all(
      clients.map((redis) => appWith({ limiter: new RedisRateLimiter(redis, silentLogger), perMinute: budgets })),
    );
    const user = `shared-${crypto.randomUUID()}`;
    const tokenA = await a!.token(user, "starter");
    const tokenB = await b!.token(user, "starter");
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a! : b!).call("GET", "/v1/collections", { token: i % 2 ? tokenA : tokenB })),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(8);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(12);
    for (const c of clients) c.disconnect();
  });

  test("budgets leased by two workers (as production wires them): within [budget - W x L, budget + refill], far fewer round trips", async () => {
    const clients = [createRedisClient(productionConfig.redis, silentLogger), createRedisClient(productionConfig.redis, silentLogger)];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      let roundTrips = 0;
      const workers = clients.map((redis) => {
        const shared = new RedisRateLimiter(redis, silentLogger);
        const counted: RateLimiter = { consume: (k, l, c) => (roundTrips++, shared.consume(k, l, c)) };
        return new LeasedRateLimiter(counted, { maxUnits: 20, leaseMs: 1000 });
      });
      const budget = 1_000; // a lease is 10 units
      const key = `leased-${crypto.randomUUID()}`;
      const started = performance.now();
      // each worker: 16 clients in flight, 1,000 requests
      let allowed = 0;
      await Promise.all(
        workers.map(async (worker) => {
          let sent = 0;
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (sent++ < 1_000) if ((await worker.consume(key, budget)).allowed) allowed++;
            }),
          );
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      expect(allowed).toBeLessThanOrEqual(budget + Math.ceil((seconds * budget) / 60)); // GCRA refills meanwhile
      expect(allowed).toBeGreaterThanOrEqual(budget - 2 * 10);
      expect(roundTrips).toBeLessThan(2_000 - allowed / 2);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  test("with Redis unreachable, each worker falls back to its own limiter (counted), never failing open or closed", async () => {
    const dead = createRedisClient("redis://127.0.0.1:1", silentLogger);
    const limiter = new RedisRateLimiter(dead, silentLogger);
    const t = await appWith({ limiter, perMinute: budgets });
    const token = await t.token(`dead-${crypto.randomUUID()}`, "free");
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.call("GET", "/v1/collections", { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // the 7th is refused by the worker's memory of the spent budget (src/http/early-rejection.ts), before the limiter
    expect(limiter.stats.fallbacks).toBe(6);
    dead.disconnect();
  });
});
