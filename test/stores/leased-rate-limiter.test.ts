/**
 * Budgets leased from the shared limiter and spent locally (src/stores/shared/leased-rate-limiter.ts):
 * the documented bound across workers, on a shared GCRA with a frozen clock (no refill), so every
 * figure is exact. The same limiter on real Redis across two workers: test/http/rate-limit.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { RateLimiter } from "../../src/ports/rate-limiter";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import { LeasedRateLimiter, leaseUnits } from "../../src/stores/shared/leased-rate-limiter";

function setup(workers: number, maxUnits = 20, leaseMs = 1000) {
  let now = 1_000_000;
  const clock = () => now;
  const inner = new InProcessRateLimiter({ now: clock });
  const calls = { n: 0, units: 0 };
  const shared: RateLimiter = {
    consume(key, limit, cost = 1) {
      calls.n++;
      calls.units += cost;
      return inner.consume(key, limit, cost);
    },
  };
  const limiters = Array.from({ length: workers }, () => new LeasedRateLimiter(shared, { maxUnits, leaseMs, now: clock }));
  return { limiters, calls, advance: (ms: number) => (now += ms) };
}

describe("leased rate limits", () => {
  test("lease size: a hundredth of the budget, at least 1, at most the configured units", () => {
    expect(leaseUnits(100, 20)).toBe(1);
    expect(leaseUnits(199, 20)).toBe(1);
    expect(leaseUnits(1_000, 20)).toBe(10);
    expect(leaseUnits(100_000, 20)).toBe(20);
    expect(leaseUnits(100_000, 1)).toBe(1);
  });

  test("two workers, requests alternating: never more than the budget, never less than budget - W x L", async () => {
    const { limiters, calls } = setup(2);
    const budget = 1_000; // lease = 10 units
    const key = `k-${crypto.randomUUID()}`;
    let allowed = 0;
    for (let i = 0; i < 900; i++) if ((await limiters[i % 2]!.consume(key, budget)).allowed) allowed++;
    expect(allowed).toBe(900);
    expect(calls.n).toBeLessThanOrEqual(900 / 10 + 2); // one round trip per lease of 10, not one a request
    for (let i = 900; i < 3 * budget; i++) if ((await limiters[i % 2]!.consume(key, budget)).allowed) allowed++;
    expect(allowed).toBeLessThanOrEqual(budget);
    expect(allowed).toBeGreaterThanOrEqual(budget - 2 * 10);
    // once spent: one round trip a refused request, no lease attempt before it
    const before = calls.n;
    for (let i = 0; i < 100; i++) expect((await limiters[i % 2]!.consume(key, budget)).allowed).toBe(false);
    expect(calls.n - before).toBe(100);
  });

  test("concurrent requests on four workers stay within the bound and share their lease requests", async () => {
    const { limiters, calls } = setup(4);
    const budget = 2_000; // lease = 20 units
    const key = `k-${crypto.randomUUID()}`;
    const decisions = await Promise.all(Array.from({ length: 5_000 }, (_, i) => limiters[i % 4]!.consume(key, budget)));
    const allowed = decisions.filter((d) => d.allowed).length;
    expect(allowed).toBeLessThanOrEqual(budget);
    expect(allowed).toBeGreaterThanOrEqual(budget - 4 * 20);
    expect(calls.units).toBeGreaterThanOrEqual(allowed); // every admitted unit was taken from the shared budget first
    for (const d of decisions.filter((x) => !x.allowed)) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  test("a budget under 200 a minute leases one unit: exact, every request asks the shared limiter", async () => {
    const { limiters, calls } = setup(2);
    const key = `k-${crypto.randomUUID()}`;
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await limiters[i % 2]!.consume(key, 5)).allowed);
    expect(statuses).toEqual([true, true, true, true, true, false, false, false]);
    expect(calls.n).toBe(8);
  });

  test("an unspent lease lapses after its time: the next request takes a new one, the old units stay spent", async () => {
    const { limiters, calls, advance } = setup(1, 20, 1000);
    const [limiter] = limiters;
    const key = `k-${crypto.randomUUID()}`;
    const first = await limiter!.consume(key, 1_000); // takes 10, spends 1
    expect(first).toMatchObject({ allowed: true, remaining: 999 });
    expect(calls.units).toBe(10);
    await limiter!.consume(key, 1_000);
    expect(calls.n).toBe(1);
    advance(1001);
    const later = await limiter!.consume(key, 1_000);
    expect(calls.n).toBe(2);
    expect(calls.units).toBe(20);
    // 20 units taken (of which 8 lapsed unspent), plus the 1 s of refill at 1000/min
    expect(later.remaining).toBeLessThanOrEqual(1_000 - 20 + 17 + 9);
  });

  test("a lease is only spent for the budget it was taken under: another limit asks again", async () => {
    const { limiters, calls } = setup(1);
    const key = `k-${crypto.randomUUID()}`;
    await limiters[0]!.consume(key, 1_000);
    await limiters[0]!.consume(key, 2_000);
    expect(calls.n).toBe(2);
  });

  test("a request costing more than a lease goes to the shared limiter as it is", async () => {
    const { limiters, calls } = setup(1);
    const key = `k-${crypto.randomUUID()}`;
    expect((await limiters[0]!.consume(key, 1_000, 50)).allowed).toBe(true);
    expect(calls).toEqual({ n: 1, units: 50 });
  });

  test("the last units of a budget are still spent when a whole lease no longer fits", async () => {
    const { limiters } = setup(1);
    const key = `k-${crypto.randomUUID()}`;
    const budget = 1_005; // lease 10: 100 leases, then 5 single units
    let allowed = 0;
    for (let i = 0; i < 1_100; i++) if ((await limiters[0]!.consume(key, budget)).allowed) allowed++;
    expect(allowed).toBe(budget);
  });
});
