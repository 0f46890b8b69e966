/**
 * A small closed-loop HTTP load generator in Bun, for the scenarios oha cannot express: each
 * request's body taken IN ORDER from a list (every query sent once: really uncached), a
 * weighted mix of request kinds (90% searches / 10% writes), and answers that must be read
 * (how many said `"cached":true` or `"reranked":true`).
 *
 *   bun run bench/loader.ts SPEC.json      → writes SPEC.output (oha's JSON shape + "extra")
 *
 * It runs as its own process so its event loop is not the orchestrator's. Bounded in time
 * (durationSeconds, then in-flight requests finish, each with a timeout) and in request count
 * (maxRequests). It costs more CPU per request than oha: use it where the rates are low
 * (rerank) or where reading bodies is the point (mix), and say so.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds, normalize, ROOT, type LoadResult, type OhaJson } from "./oha";
import { Rng } from "./prng";

export interface LoaderSource {
  name: string;
  /** relative weight in the mix (default 1) */
  weight?: number;
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** a file of bodies, one per line */
  bodiesFile?: string;
  /** a single body */
  body?: string;
  /** "sequential": each line once, in order (wraps and counts it if exhausted); "random": uniform */
  pick?: "sequential" | "random";
}

export interface LoaderSpec {
  sources: LoaderSource[];
  connections: number;
  durationSeconds: number;
  maxRequests?: number;
  timeoutSeconds?: number;
  seed?: string;
  /** Open loop: requests start on a fixed schedule of this many a second (connections = most in flight). */
  ratePerSecond?: number;
  output: string;
}

interface Source extends LoaderSource {
  bodies: string[];
  cursor: number;
  wrapped: number;
  latencies: number[];
  /** Latencies of the 2xx answers alone (a shed 503 is fast and would flatter the percentiles). */
  okLatencies: number[];
  status: Record<string, number>;
  errors: Record<string, number>;
  cachedTrue: number;
  rerankedTrue: number;
  rerankedFalse: number;
}

function percentile(sorted: Float64Array | number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const PCTS: Array<[string, number]> = [
  ["p10", 0.1], ["p25", 0.25], ["p50", 0.5], ["p75", 0.75], ["p90", 0.9],
  ["p95", 0.95], ["p99", 0.99], ["p99.9", 0.999], ["p99.99", 0.9999],
];

export async function runLoader(spec: LoaderSpec): Promise<void> {
  const rng = new Rng(spec.seed ?? "loader");
  const sources: Source[] = spec.sources.map((s) => ({
    ...s,
    bodies: s.bodiesFile ? readFileSync(s.bodiesFile, "utf8").split("\n").filter((l) => l.length > 0) : s.body !== undefined ? [s.body] : [],
    cursor: 0,
    wrapped: 0,
    latencies: [],
    okLatencies: [],
    status: {},
    errors: {},
    cachedTrue: 0,
    rerankedTrue: 0,
    rerankedFalse: 0,
  }));
  const totalWeight = sources.reduce((a, s) => a + (s.weight ?? 1), 0);
  const choose = (): Source => {
    let x = rng.next() * totalWeight;
    for (const s of sources) {
      x -= s.weight ?? 1;
      if (x < 0) return s;
    }
    return sources.at(-1)!;
  };
  const bodyOf = (s: Source): string | undefined => {
    if (s.bodies.length === 0) return undefined;
    if (s.pick === "random") return s.bodies[Math.floor(rng.next() * s.bodies.length)];
    if (s.cursor >= s.bodies.length) {
      s.cursor = 0;
      s.wrapped++;
    }
    return s.bodies[s.cursor++];
  };

  const maxRequests = spec.maxRequests ?? 2_000_000;
  const timeoutMs = (spec.timeoutSeconds ?? 30) * 1000;
  const all = new Float64Array(maxRequests);
  let n = 0;
  let issued = 0;
  const began = performance.now();
  const deadline = began + spec.durationSeconds * 1000;

  const lane = async () => {
    while (performance.now() < deadline && issued < maxRequests) {
      const slot = issued++;
      if (spec.ratePerSecond) {
        const wait = began + (slot * 1000) / spec.ratePerSecond - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        if (performance.now() >= deadline) {
          issued--; // never sent
          break;
        }
      }
      const s = choose();
      const body = bodyOf(s);
      const t0 = performance.now();
      try {
        const res = await fetch(s.url, {
          method: s.method,
          headers: s.headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        const dt = (performance.now() - t0) / 1000;
        all[n++] = dt;
        s.latencies.push(dt);
        if (res.status >= 200 && res.status < 300) s.okLatencies.push(dt);
        s.status[res.status] = (s.status[res.status] ?? 0) + 1;
        if (text.startsWith('{"cached":true')) s.cachedTrue++;
        if (text.includes('"reranked":true')) s.rerankedTrue++;
        else if (text.includes('"reranked":false')) s.rerankedFalse++;
      } catch (error) {
        const name = (error as Error).name === "TimeoutError" ? "timeout" : String((error as Error).message ?? error);
        s.errors[name] = (s.errors[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, lane));
  const seconds = (performance.now() - began) / 1000;

  const sorted = all.subarray(0, n).sort();
  const merge = (pick: (s: Source) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const s of sources) for (const [k, v] of Object.entries(pick(s))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const perSource: Record<string, unknown> = {};
  for (const s of sources) {
    const ls = s.latencies.sort((a, b) => a - b);
    const ok = s.okLatencies.sort((a, b) => a - b);
    perSource[s.name] = {
      requests: ls.length + Object.values(s.errors).reduce((a, b) => a + b, 0),
      rps: ls.length / seconds,
      p50_ms: (percentile(ls, 0.5) ?? NaN) * 1000,
      p95_ms: (percentile(ls, 0.95) ?? NaN) * 1000,
      p99_ms: (percentile(ls, 0.99) ?? NaN) * 1000,
      ok_p50_ms: (percentile(ok, 0.5) ?? NaN) * 1000,
      ok_p95_ms: (percentile(ok, 0.95) ?? NaN) * 1000,
      ok_p99_ms: (percentile(ok, 0.99) ?? NaN) * 1000,
      status: s.status,
      errors: s.errors,
      cached_true: s.cachedTrue,
      reranked_true: s.rerankedTrue,
      reranked_false: s.rerankedFalse,
      distinct_bodies: s.bodies.length,
      wrapped: s.wrapped,
    };
  }
  let sum = 0;
  for (const v of sorted) sum += v;
  const output = {
    summary: {
      successRate: n / Math.max(1, issued),
      total: seconds,
      slowest: n > 0 ? sorted[n - 1] : null,
      fastest: n > 0 ? sorted[0] : null,
      average: n > 0 ? sum / n : null,
      requestsPerSec: n / seconds,
    },
    latencyPercentiles: Object.fromEntries(PCTS.map(([k, p]) => [k, percentile(sorted, p)])),
    statusCodeDistribution: merge((s) => s.status),
    errorDistribution: merge((s) => s.errors),
    extra: { perSource },
  };
  writeFileSync(spec.output, JSON.stringify(output, null, 2));
}

let seq = 0;

/** Runs the loader in its own Bun process and returns its normalised result. */
export async function runLoaderProcess(spec: Omit<LoaderSpec, "output">): Promise<LoadResult> {
  const dir = join(ROOT, ".stack", "bench");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `loader-${process.pid}-${++seq}`);
  const full: LoaderSpec = { ...spec, output: `${base}.out.json` };
  writeFileSync(`${base}.spec.json`, JSON.stringify(full));
  const proc = Bun.spawn([process.execPath, "run", join(import.meta.dir, "loader.ts"), `${base}.spec.json`], {
    stdout: "inherit",
    stderr: "inherit",
  });
  const guard = setTimeout(() => proc.kill("SIGKILL"), (spec.durationSeconds + (spec.timeoutSeconds ?? 30) + 30) * 1000);
  const code = await proc.exited;
  clearTimeout(guard);
  if (code !== 0 || !existsSync(full.output)) throw new Error(`bench/loader.ts exited with ${code}`);
  const json = JSON.parse(readFileSync(full.output, "utf8")) as OhaJson;
  rmSync(full.output, { force: true });
  rmSync(`${base}.spec.json`, { force: true });
  return { ...normalize(json, "bun-loader"), clientCpuSeconds: cpuSeconds(proc) };
}

if (import.meta.main) {
  const specPath = process.argv[2];
  if (!specPath) {
    console.error("usage: bun run bench/loader.ts SPEC.json");
    process.exit(2);
  }
  await runLoader(JSON.parse(readFileSync(specPath, "utf8")) as LoaderSpec);
}
