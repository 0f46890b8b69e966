import { describe, expect, test } from "bun:test";
import type { RateLimiter } from "../../src/ports/rate-limiter.ts";
import { fixturePerTest, type Opened } from "./contract-setup.ts";

export interface RateLimiterFixture extends Opened {
  limiter: RateLimiter;
}

/** The RateLimiter contract (GCRA semantics). Keys are fresh UUIDs, so a shared Redis works. */
export function runRateLimiterContract(name: string, factory: () => Promise<RateLimiterFixture>): void {
  describe(name, () => {
    const fx = fixturePerTest(factory);
    const key = () => `contract-${crypto.randomUUID()}`;

    test("a burst gets exactly the budget, counting down, then is refused with a retry time", async () => {
      const { limiter } = fx;
      const k = key();
      const decisions = [];
      for (let i = 0; i < 8; i++) decisions.push(await limiter.consume(k, 5));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
      expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
      for (const d of decisions) expect(d.limit).toBe(5);
      const refused = decisions[5]!;
      expect(refused.remaining).toBe(0);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(12); // one request every 60/5 s
      expect(refused.resetSeconds).toBeGreaterThanOrEqual(refused.retryAfterSeconds);
    });

    test("keys are independent", async () => {
      const { limiter } = fx;
      const a = key();
      const b = key();
      expect((await limiter.consume(a, 1)).allowed).toBe(true);
      expect((await limiter.consume(a, 1)).allowed).toBe(false);
      expect((await limiter.consume(b, 1)).allowed).toBe(true);
    });

    test("the budget refills at limit/60 per second", async () => {
      const { limiter } = fx;
      const k = key();
      // 1200 a minute: one every 50 ms. Spend until refused (the budget refills while we spend).
      let spent = 0;
      while ((await limiter.consume(k, 1200)).allowed) spent++;
      expect(spent).toBeGreaterThanOrEqual(1200);
      expect(spent).toBeLessThan(2400);
      let allowed = false;
      for (let tries = 0; tries < 50 && !allowed; tries++) {
        await Bun.sleep(20);
        allowed = (await limiter.consume(k, 1200)).allowed;
      }
      expect(allowed).toBe(true);
    });

    test("concurrent requests never overspend the budget", async () => {
      const { limiter } = fx;
      const k = key();
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.consume(k, 20)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    });
  });
}
