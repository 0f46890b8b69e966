import { beforeEach, describe, expect, test } from "bun:test";
import type { SearchPopularity } from "../../src/ports/search-popularity.ts";
import { type Opened, openPerTest } from "./contract-setup.ts";

export interface PopularityFixture extends Opened {
  popularity: SearchPopularity;
}

/** Builds a counter with the given half-life and bound on searches kept per collection. */
export type PopularityFactory = (options: { halfLifeMs: number; maxPerCollection?: number }) => Promise<PopularityFixture>;

/** The SearchPopularity contract. Collection ids are fresh UUIDs, so a shared Redis works. */
export function runSearchPopularityContract(name: string, factory: PopularityFactory): void {
  describe(name, () => {
    const openFixture = openPerTest(factory);
    const open = async (options: { halfLifeMs: number; maxPerCollection?: number }) => (await openFixture(options)).popularity;
    let cid: string;
    beforeEach(() => {
      cid = `pop-${crypto.randomUUID()}`;
    });
    const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));

    test("record adds up askings and answers each search's score", async () => {
      const p = await open({ halfLifeMs: 3_600_000 });
      const first = await p.record(cid, counts({ a: 3, b: 1 }));
      expect(first.get("a")).toBeCloseTo(3, 3);
      expect(first.get("b")).toBeCloseTo(1, 3);
      const second = await p.record(cid, counts({ a: 2 }));
      expect(second.get("a")).toBeCloseTo(5, 3);
      expect([...second.keys()]).toEqual(["a"]);
    });

    test("top lists a collection's searches, most asked first, at most n", async () => {
      const p = await open({ halfLifeMs: 3_600_000 });
      await p.record(cid, counts({ rare: 1, hot: 9, warm: 4 }));
      await p.record(`other-${cid}`, counts({ elsewhere: 50 }));
      const top = await p.top(cid, 2);
      expect(top.map((s) => s.descriptor)).toEqual(["hot", "warm"]);
      expect(top[0]!.score).toBeCloseTo(9, 3);
      expect((await p.top(cid, 10)).map((s) => s.descriptor)).toEqual(["hot", "warm", "rare"]);
      expect(await p.top(`never-${cid}`, 5)).toEqual([]);
    });

    test("descriptors are opaque strings: JSON, quotes and unicode come back unchanged", async () => {
      const p = await open({ halfLifeMs: 3_600_000 });
      const descriptor = JSON.stringify({ query: `"naïve" 'café' \\ 日本`, filters: { metadata: { k: [1, 2] } } });
      await p.record(cid, counts({ [descriptor]: 2 }));
      expect((await p.top(cid, 1))[0]!.descriptor).toBe(descriptor);
    });

    test("counts decay: a half-life later an asking weighs about half", async () => {
      const p = await open({ halfLifeMs: 300 });
      await p.record(cid, counts({ q: 8 }));
      await Bun.sleep(650); // more than two half-lives
      const [now] = await p.top(cid, 1);
      expect(now!.score).toBeLessThan(8 * 0.25 * 1.05);
      expect(now!.score).toBeGreaterThan(0);
      // a fresh asking now outweighs the old ones
      await p.record(cid, counts({ fresh: 3 }));
      expect((await p.top(cid, 2)).map((s) => s.descriptor)).toEqual(["fresh", "q"]);
    });

    test("after very many half-lives old counts vanish and new ones count in full", async () => {
      const p = await open({ halfLifeMs: 5 });
      await p.record(cid, counts({ old: 1000 }));
      await Bun.sleep(400); // 80 half-lives: the stored weights must be rescaled, not overflow
      const scores = await p.record(cid, counts({ young: 2 }));
      expect(scores.get("young")).toBeCloseTo(2, 3);
      const top = await p.top(cid, 2);
      expect(top[0]!.descriptor).toBe("young");
      expect(top[1]?.score ?? 0).toBeLessThan(1e-6);
    });

    test("a collection keeps at most maxPerCollection searches, the least asked going first", async () => {
      const p = await open({ halfLifeMs: 3_600_000, maxPerCollection: 3 });
      await p.record(cid, counts({ a: 5, b: 4, c: 3 }));
      await p.record(cid, counts({ d: 10 }));
      expect((await p.top(cid, 10)).map((s) => s.descriptor)).toEqual(["d", "a", "b"]);
    });

    test("topCollections ranks collections by their askings; forget drops one", async () => {
      const p = await open({ halfLifeMs: 3_600_000 });
      const busy = `busy-${cid}`;
      await p.record(cid, counts({ x: 1 }));
      await p.record(busy, counts({ y: 1_000_000, z: 1_000_000 }));
      const ranked = await p.topCollections(10_000);
      expect(ranked.indexOf(busy)).toBeGreaterThanOrEqual(0);
      expect(ranked.indexOf(busy)).toBeLessThan(ranked.indexOf(cid));
      await p.forget(busy);
      expect(await p.top(busy, 5)).toEqual([]);
      expect(await p.topCollections(10_000)).not.toContain(busy);
      expect((await p.top(cid, 5)).map((s) => s.descriptor)).toEqual(["x"]);
      await p.forget(cid);
    });
  });
}
