import { describe, expect, test } from "bun:test";
import { type LoadResult, mergeLoads } from "../../bench/oha";

const load = (over: Partial<LoadResult> & Pick<LoadResult, "latencyMs">): LoadResult => ({
  tool: "bun-loader",
  seconds: 10,
  requests: 0,
  rps: 0,
  status: {},
  errors: {},
  ...over,
});

const latency = (p99: number, mean: number, max: number) => ({ mean, p50: p99 / 4, p90: p99 / 2, p95: p99 / 1.5, p99, p999: p99 * 1.5, max });

describe("mergeLoads", () => {
  const a = load({
    seconds: 10,
    requests: 1002,
    rps: 100,
    latencyMs: latency(20, 4, 90),
    status: { "200": 900, "429": 100 },
    errors: { timeout: 2 },
    clientCpuSeconds: 3,
    extra: { perSource: {} },
  });
  const b = load({
    seconds: 10.5,
    requests: 2001,
    rps: 200,
    latencyMs: latency(30, 7, 60),
    status: { "200": 1950, "503": 50 },
    errors: { timeout: 1 },
    clientCpuSeconds: 5,
  });

  test("counts, req/s, status and error counts and the generators' CPU are summed over the longest window", () => {
    const merged = mergeLoads([a, b]);
    expect(merged).toMatchObject({
      tool: "bun-loader",
      seconds: 10.5,
      requests: 3003,
      rps: 300,
      status: { "200": 2850, "429": 100, "503": 50 },
      errors: { timeout: 3 },
      clientCpuSeconds: 8,
    });
    expect(merged.extra).toBeUndefined();
  });

  test("percentiles are the slowest load's (by p99), never averaged; the mean is weighted by answers, the max is the largest", () => {
    const merged = mergeLoads([a, b]);
    expect(merged.latencyMs).toEqual({ ...b.latencyMs, mean: (1000 * 4 + 2000 * 7) / 3000, max: 90 });
    expect(mergeLoads([b, a]).latencyMs).toEqual(merged.latencyMs);
    // a tie on p99 keeps the first
    const tie = load({ latencyMs: { ...latency(30, 1, 1), p50: 1 } });
    expect(mergeLoads([b, tie]).latencyMs.p50).toBe(b.latencyMs.p50);
    expect(mergeLoads([tie, b]).latencyMs.p50).toBe(1);
  });

  test("the inputs are left as they were", () => {
    const before = structuredClone([a, b]);
    mergeLoads([a, b]);
    expect([a, b]).toEqual(before);
  });

  test("one load is itself (less its tool-specific extra); CPU stays unknown when no load knows it", () => {
    const { extra: _, ...rest } = a;
    expect(mergeLoads([a])).toEqual(rest);
    const noCpu = mergeLoads([{ ...b, clientCpuSeconds: undefined }, { ...b, clientCpuSeconds: undefined }]);
    expect("clientCpuSeconds" in noCpu).toBe(false);
  });

  test("a load with no answers (NaN latencies) moves no latency figure, whichever its place", () => {
    const empty = load({ latencyMs: latency(NaN, NaN, NaN), errors: { refused: 5 }, requests: 5 });
    for (const loads of [[b, empty], [empty, b]]) {
      const merged = mergeLoads(loads);
      expect(merged.latencyMs).toEqual(b.latencyMs);
      expect(merged.requests).toBe(2006);
      expect(merged.errors).toEqual({ timeout: 1, refused: 5 });
    }
    expect(mergeLoads([empty, empty]).latencyMs.max).toBeNaN();
  });

  test("refuses nothing to merge, and loads of different tools", () => {
    expect(() => mergeLoads([])).toThrow(RangeError);
    expect(() => mergeLoads([a, { ...b, tool: "oha" }])).toThrow(/different tools/);
  });
});
