/**
 * oha (https://github.com/hatoo/oha), the HTTP load generator of the bench: find it or install
 * it, run one bounded load, parse its JSON.
 *
 * Where it comes from: `.stack/oha/bin/oha` (git-ignored), built by
 * `cargo install oha --locked --root .stack/oha` when missing: a Rust build that takes minutes
 * (about 15 on a 2-core box). An `oha` on PATH is used when the local one is absent.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const OHA_ROOT = join(ROOT, ".stack", "oha");
export const OHA_BIN = join(OHA_ROOT, "bin", "oha");
const TMP = join(ROOT, ".stack", "bench");

/** The normalised result of one load run, whichever tool produced it. */
export interface LoadResult {
  tool: "oha" | "bun-loader";
  /** wall time of the run, s */
  seconds: number;
  requests: number;
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p95: number; p99: number; p999: number; max: number };
  /** HTTP status → count */
  status: Record<string, number>;
  /** error message (timeouts, resets, refused…) → count */
  errors: Record<string, number>;
  /** CPU time the load generator itself used, s (user + system; ÷ seconds = cores it took) */
  clientCpuSeconds?: number;
  /** tool-specific figures (bun-loader: cached/reranked answers, per-source latencies) */
  extra?: Record<string, unknown>;
}

/** The subset of oha's `--output-format json` the bench reads (bench/loader.ts writes the same). */
export interface OhaJson {
  summary: { total: number; slowest: number | null; average: number | null; requestsPerSec: number; successRate?: number };
  latencyPercentiles: Record<string, number | null>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
  extra?: Record<string, unknown>;
}

const ms = (s: number | null | undefined) => (s === null || s === undefined ? NaN : Math.round(s * 1e6) / 1e3);

export function normalize(json: OhaJson, tool: LoadResult["tool"]): LoadResult {
  const p = json.latencyPercentiles ?? {};
  const okRequests = Object.values(json.statusCodeDistribution ?? {}).reduce((a, b) => a + b, 0);
  const errors = Object.values(json.errorDistribution ?? {}).reduce((a, b) => a + b, 0);
  return {
    tool,
    seconds: json.summary.total,
    requests: okRequests + errors,
    rps: json.summary.requestsPerSec,
    latencyMs: {
      mean: ms(json.summary.average),
      p50: ms(p.p50),
      p90: ms(p.p90),
      p95: ms(p.p95),
      p99: ms(p.p99),
      p999: ms(p["p99.9"]),
      max: ms(json.summary.slowest),
    },
    status: json.statusCodeDistribution ?? {},
    errors: json.errorDistribution ?? {},
    ...(json.extra ? { extra: json.extra } : {}),
  };
}

const addCounts = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
};

/**
 * Loads run at once over the same window (one per host, say) as one: requests, req/s, status
 * and error counts and the generators' CPU summed; the window is the longest run; the mean is
 * weighted by answered requests and the max is the largest; tool-specific `extra` is left out.
 *
 * Percentiles cannot be merged from summaries (the raw latencies stay in the generator's
 * process), and averaging them is wrong. Approximation: every percentile from the load with the
 * highest p99 (the first on a tie), i.e. what a client of the slowest group saw.
 */
export function mergeLoads(loads: LoadResult[]): LoadResult {
  const first = loads[0];
  if (first === undefined) throw new RangeError("mergeLoads needs at least one load");
  if (loads.some((l) => l.tool !== first.tool)) throw new RangeError(`mergeLoads: loads of different tools (${loads.map((l) => l.tool).join(", ")})`);
  // a load with no answers has NaN latencies: never the slowest, never the max
  const slowest = loads.reduce((worst, l) => (l.latencyMs.p99 > worst.latencyMs.p99 || Number.isNaN(worst.latencyMs.p99) ? l : worst));
  const maxes = loads.map((l) => l.latencyMs.max).filter((x) => !Number.isNaN(x));
  const status: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let answered = 0;
  let latencySum = 0;
  let cpu: number | undefined;
  for (const l of loads) {
    addCounts(status, l.status);
    addCounts(errors, l.errors);
    const n = Object.values(l.status).reduce((a, b) => a + b, 0);
    if (n > 0) {
      answered += n;
      latencySum += n * l.latencyMs.mean;
    }
    if (l.clientCpuSeconds !== undefined) cpu = (cpu ?? 0) + l.clientCpuSeconds;
  }
  return {
    tool: first.tool,
    seconds: Math.max(...loads.map((l) => l.seconds)),
    requests: loads.reduce((a, l) => a + l.requests, 0),
    rps: loads.reduce((a, l) => a + l.rps, 0),
    latencyMs: {
      ...slowest.latencyMs,
      mean: answered > 0 ? Math.round((latencySum / answered) * 1e3) / 1e3 : NaN,
      max: maxes.length > 0 ? Math.max(...maxes) : NaN,
    },
    status,
    errors,
    ...(cpu !== undefined ? { clientCpuSeconds: cpu } : {}),
  };
}

/** Path of a working oha, installing it (minutes) when there is none. */
export async function ensureOha(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  if (existsSync(OHA_BIN)) return OHA_BIN;
  const onPath = Bun.which("oha");
  if (onPath) {
    log(`oha: using ${onPath} (no ${OHA_BIN})`);
    return onPath;
  }
  const cargo = Bun.which("cargo") ?? (existsSync(join(process.env.HOME ?? "/root", ".cargo/bin/cargo")) ? join(process.env.HOME ?? "/root", ".cargo/bin/cargo") : null);
  if (!cargo) {
    throw new Error(
      "oha is not installed and cargo is missing. Install Rust (apt-get install cargo, or rustup), then run\n" +
        `  cargo install oha --locked --root ${OHA_ROOT}`,
    );
  }
  log(`oha: not found; building it: cargo install oha --locked --root ${OHA_ROOT}`);
  log("oha: this compiles a Rust program from crates.io and takes minutes (about 15 on a 2-core box); cargo's progress follows");
  mkdirSync(OHA_ROOT, { recursive: true });
  const proc = Bun.spawn([cargo, "install", "oha", "--locked", "--root", OHA_ROOT], { stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0 || !existsSync(OHA_BIN)) throw new Error(`cargo install oha failed (exit ${code})`);
  log(`oha: installed at ${OHA_BIN}`);
  return OHA_BIN;
}

export interface OhaSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** one body for every request */
  body?: string;
  /** one body (file) for every request */
  bodyFile?: string;
  /** a file of bodies, one per line: oha picks a random line for each request (`-Z`) */
  bodyLinesFile?: string;
  connections: number;
  durationSeconds: number;
  /** open-loop rate (`-q`), with `--latency-correction` so queueing delay is counted */
  qps?: number;
  /** per-request timeout, s (default 30): a hung request ends as an error, never hangs the run */
  timeoutSeconds?: number;
  extraArgs?: string[];
}

let seq = 0;

/** user + system CPU of a finished child, s */
export function cpuSeconds(proc: { resourceUsage(): { cpuTime: { total: bigint | number } } | undefined }): number | undefined {
  const usage = proc.resourceUsage();
  return usage ? Number(usage.cpuTime.total) / 1e6 : undefined;
}

/** Runs one bounded oha load and returns its parsed result. */
export async function runOha(bin: string, spec: OhaSpec): Promise<LoadResult> {
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, `oha-${process.pid}-${++seq}.json`);
  const args = [
    bin,
    "--no-tui",
    "--output-format",
    "json",
    "-o",
    out,
    "-z",
    `${spec.durationSeconds}s`,
    "-w", // wait for in-flight requests at the deadline instead of counting them as aborted
    "-c",
    String(spec.connections),
    "-t",
    `${spec.timeoutSeconds ?? 30}s`,
    "-m",
    spec.method ?? "GET",
  ];
  for (const [k, v] of Object.entries(spec.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (spec.body !== undefined) args.push("-d", spec.body);
  if (spec.bodyFile) args.push("-D", spec.bodyFile);
  if (spec.bodyLinesFile) args.push("-Z", spec.bodyLinesFile);
  if (spec.qps) args.push("-q", String(spec.qps), "--latency-correction");
  args.push(...(spec.extraArgs ?? []), spec.url);

  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  // bounded: the duration, plus the per-request timeout for the in-flight ones, plus slack
  const guard = setTimeout(() => proc.kill("SIGKILL"), (spec.durationSeconds + (spec.timeoutSeconds ?? 30) + 30) * 1000);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(guard);
  if (code !== 0 || !existsSync(out)) {
    throw new Error(`oha exited with ${code}: ${stderr.trim().slice(0, 500)}\n  ${args.join(" ").slice(0, 300)}`);
  }
  const json = JSON.parse(readFileSync(out, "utf8")) as OhaJson;
  rmSync(out, { force: true });
  return { ...normalize(json, "oha"), clientCpuSeconds: cpuSeconds(proc) };
}
