/**
 * The bench scenarios. Each is one (or, for isolation, a few) bounded load runs against
 * 127.0.0.1, turned into ScenarioResult rows for the report.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Redis from "ioredis";
import type { Config } from "../src/config";
import { ensureCollection, generateMemory, generateQueries, ingest } from "./generate";
import { createOnnxEmbedder } from "../src/ml/embedder";
import { runLoaderProcess, type LoaderSource } from "./loader";
import { runOha, type LoadResult, type OhaSpec } from "./oha";
import { startMeter, type Role } from "./system";
import { twoHostsClusterEnv, twoHostsScenario } from "./two-hosts";

export interface Ctx {
  quick: boolean;
  durationSeconds: number;
  warmupSeconds: number;
  oha: string;
  urls: { nginx: string; direct: string; helloDirect: string; helloNginx: string; workers: string[] };
  tokens: { enterprise: string; free: string };
  collection: { id: string; memories: number };
  freeCollection: { id: string; memories: number };
  redis: Redis;
  /** the cluster supervisor's pid (its workers are the "api" in the CPU breakdown) */
  clusterPid?: number;
  /** per-run seed of the "unique" query sets (so a re-run within the cache TTL is still uncached) */
  runSeed: string;
  bodiesDir: string;
  /** results so far in this run (isolation reads the cached-search rps) */
  results: ScenarioResult[];
  /**
   * Starts a second worker group ("another host") with the running cluster's settings and
   * secret on `ports`, behind its own nginx on `nginxPort`; stop() stops both.
   */
  startHostGroup(ports: number[], nginxPort: number): Promise<{ url: string; stop(): Promise<void> }>;
  /** a token signed with the run's secret */
  mintToken(sub: string, tier: string): Promise<string>;
  say: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  title: string;
  tool: LoadResult["tool"];
  target: string;
  connections: number;
  /** open-loop rate asked for (oha -q), if any */
  qps?: number;
  duration_s: number;
  requests: number;
  rps: number;
  latency_ms: LoadResult["latencyMs"];
  status: Record<string, number>;
  errors: Record<string, number>;
  non_2xx: number;
  error_count: number;
  /** share of both cores busy during the run (everything on the box: server, nginx, load generator, stores) */
  machine_cpu_busy: number;
  /** cores the load generator itself used on average */
  client_cpu_cores?: number;
  /** cores used during the run, by role (api workers, nginx, stores, client, other processes…) */
  cpu_cores?: Partial<Record<Role | "unattributed", number>>;
  baseline?: string;
  ratio_to_baseline?: number;
  notes: string[];
  extra?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  title: string;
  /** the processes it needs */
  needs: "hello" | "cluster";
  /** the scenario whose rps this one is compared with */
  baseline?: string;
  /**
   * Env overrides for the cluster this scenario runs against, given the run's base config;
   * absent = the normal cluster. run.ts restarts the cluster when a scenario's overrides differ
   * from those of the running one, so the next scenario without overrides gets the normal
   * cluster back (and consecutive scenarios with the same overrides share one restart).
   */
  clusterEnv?(base: Config): Record<string, string>;
  /** false: all its load comes from bench/loader.ts, so a run of only such scenarios needs no oha */
  usesOha?: boolean;
  run(ctx: Ctx): Promise<ScenarioResult[]>;
}

const JSON_HEADERS = { "content-type": "application/json" };
export const auth = (token: string) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });

export function toResult(
  name: string,
  title: string,
  target: string,
  connections: number,
  load: LoadResult,
  cpu: CpuUse,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult {
  let non2xx = 0;
  for (const [code, n] of Object.entries(load.status)) if (!code.startsWith("2")) non2xx += n;
  const errorCount = Object.values(load.errors).reduce((a, b) => a + b, 0);
  return {
    name,
    title,
    tool: load.tool,
    target,
    connections,
    duration_s: Math.round(load.seconds * 100) / 100,
    requests: load.requests,
    rps: Math.round(load.rps * 10) / 10,
    latency_ms: load.latencyMs,
    status: load.status,
    errors: load.errors,
    non_2xx: non2xx,
    error_count: errorCount,
    machine_cpu_busy: Math.round(cpu.busy * 1000) / 1000,
    client_cpu_cores: clientCores(load),
    cpu_cores: cpu.cores,
    notes: [],
    ...extra,
  };
}

type CpuUse = { busy: number; cores: Partial<Record<Role | "unattributed", number>> };
type Measured = { load: LoadResult; cpu: CpuUse };

function clientCores(load: LoadResult): number | undefined {
  return load.clientCpuSeconds === undefined ? undefined : Math.round((load.clientCpuSeconds / load.seconds) * 100) / 100;
}

/** oha with an optional unmeasured warm-up first (JIT, connection pools, cache priming). */
async function ohaMeasured(
  ctx: Ctx,
  spec: Omit<OhaSpec, "durationSeconds">,
  warmup = true,
  durationSeconds = ctx.durationSeconds,
): Promise<Measured> {
  if (warmup && ctx.warmupSeconds > 0) await runOha(ctx.oha, { ...spec, durationSeconds: ctx.warmupSeconds });
  const meter = startMeter(ctx.clusterPid);
  const load = await runOha(ctx.oha, { ...spec, durationSeconds });
  return { load, cpu: meter.stop(clientCores(load)) };
}

function uniqueCount(ctx: Ctx): number {
  // oha -Z picks a random line per request: with N lines and R requests about R²/2N repeat.
  // N ≫ R keeps repeats (cache hits) to a few percent; the run measures the real share anyway.
  return ctx.quick ? 60_000 : 300_000;
}

/** A file of `n` distinct search bodies, one per line. */
function searchBodies(ctx: Ctx, label: string, n: number, extra: Record<string, unknown>, collectionId = ctx.collection.id): string {
  mkdirSync(ctx.bodiesDir, { recursive: true });
  const path = join(ctx.bodiesDir, `${label}.jsonl`);
  const queries = generateQueries(n, `${ctx.runSeed}:${label}`);
  writeFileSync(path, queries.map((query) => JSON.stringify({ query, collection_id: collectionId, top_k: 10, ...extra })).join("\n") + "\n");
  return path;
}

/**
 * Bumps the collection's generation through the public API (an idempotent upsert of one marker
 * memory), so no cached answer of an earlier run or scenario can serve this one; returns it.
 */
async function freshGeneration(ctx: Ctx, collectionId = ctx.collection.id, token = ctx.tokens.enterprise): Promise<number | null> {
  const res = await fetch(`${ctx.urls.nginx}/v1/collections/${collectionId}/memories`, {
    method: "POST",
    headers: auth(token),
    body: JSON.stringify({ memories: [{ id: "bench-marker", content: "Benchmark marker note, ignore.", metadata: { kind: "bench" } }] }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`marker upsert: ${res.status}`);
  const raw = await ctx.redis.get(`memory-api:gen:${collectionId}`).catch(() => null);
  return raw === null ? null : Number(raw);
}

/** Distinct answers cached under a generation = distinct searches computed (misses). */
async function countCachedAnswers(ctx: Ctx, collectionId: string, generation: number | null): Promise<number | null> {
  if (generation === null) return null;
  let cursor = "0";
  let n = 0;
  try {
    do {
      const [next, keys] = await ctx.redis.scan(cursor, "MATCH", `memory-api:search:${collectionId}:${generation}:*`, "COUNT", 5000);
      cursor = next;
      n += keys.length;
    } while (cursor !== "0");
  } catch {
    return null;
  }
  return n;
}

/** An uncached search load: fresh generation, unique bodies, measured miss share. */
async function uncachedSearch(
  ctx: Ctx,
  name: string,
  title: string,
  opts: { body: Record<string, unknown>; connections: number; qps?: number },
): Promise<ScenarioResult> {
  const file = searchBodies(ctx, name, uniqueCount(ctx), opts.body);
  const generation = await freshGeneration(ctx);
  const url = `${ctx.urls.nginx}/v1/search`;
  const { load, cpu } = await ohaMeasured(
    ctx,
    { url, method: "POST", headers: auth(ctx.tokens.enterprise), bodyLinesFile: file, connections: opts.connections, qps: opts.qps },
    false, // a warm-up would pre-compute some of the measured queries
  );
  const computed = await countCachedAnswers(ctx, ctx.collection.id, generation);
  const ok = load.status["200"] ?? 0;
  const result = toResult(name, title, url, opts.connections, load, cpu, { qps: opts.qps });
  result.extra = { distinct_bodies: uniqueCount(ctx), computed_answers: computed, uncached_share: computed === null || ok === 0 ? null : Math.min(1, computed / ok) };
  result.notes.push(
    computed === null
      ? "uncached share unknown (Redis keys not readable)"
      : `${((100 * Math.min(1, computed / Math.max(1, ok))).toFixed(1))}% of answers computed (uncached); the rest were oha's random repeats served by the cache or single-flight`,
  );
  return result;
}

export async function loaderMeasured(
  ctx: Ctx,
  sources: LoaderSource[],
  connections: number,
  durationSeconds = ctx.durationSeconds,
  ratePerSecond?: number,
) {
  const meter = startMeter(ctx.clusterPid);
  const load = await runLoaderProcess({ sources, connections, durationSeconds, seed: ctx.runSeed, ratePerSecond });
  return { load, cpu: meter.stop(clientCores(load)) };
}

/** Bodies of unique premium rerank searches, each sent once, in order. */
function rerankSource(ctx: Ctx, label: string, n: number): LoaderSource {
  return {
    name: "rerank",
    method: "POST",
    url: `${ctx.urls.nginx}/v1/search`,
    headers: auth(ctx.tokens.enterprise),
    bodiesFile: searchBodies(ctx, label, n, { search_type: "semantic", rerank: true }),
    pick: "sequential",
  };
}

function rerankNotes(result: ScenarioResult, load: LoadResult): void {
  const s = (load.extra?.perSource as Record<string, { reranked_true: number; reranked_false: number; wrapped: number }>)?.rerank;
  if (!s) return;
  const total = s.reranked_true + s.reranked_false;
  result.extra = { ...result.extra, reranked: s.reranked_true, unreranked_fallbacks: s.reranked_false, reranked_share: total ? s.reranked_true / total : null };
  result.notes.push(`${s.reranked_true}/${total} answers reranked (the rest degraded to unreranked: reranker busy)`);
  if (s.wrapped > 0) result.notes.push("ran out of unique queries: some repeated (cached)");
}

const ISOLATION_ROUNDS = 3;
const PREMIUM_CONNECTIONS = 16;
/** Premium rerank searches a second: about three times what one inference slot scores on this box. */
const PREMIUM_RATE = 16;

/** The run whose p99 is the median of the rounds (an odd count of rounds). */
function medianRun<T extends { load: LoadResult }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.load.latencyMs.p99 - b.load.latencyMs.p99)[Math.floor(runs.length / 2)]!;
}

/** Counters summed over every worker's /metrics (null when one cannot be read). */
async function workerCounters<K extends string>(ctx: Ctx, names: Record<K, string>): Promise<Record<K, number> | null> {
  const totals = Object.fromEntries(Object.keys(names).map((k) => [k, 0])) as Record<K, number>;
  try {
    for (const base of ctx.urls.workers) {
      const text = await (await fetch(`${base}/metrics`)).text();
      for (const [key, metric] of Object.entries(names) as [K, string][]) {
        totals[key] += Number(new RegExp(`^${metric} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      }
    }
  } catch {
    return null;
  }
  return totals;
}

const rerankCounters = (ctx: Ctx) =>
  workerCounters(ctx, { reranked: "memory_api_search_reranked_total", fallbacks: "memory_api_search_rerank_fallbacks_total" });

/** How the mix's searches were answered, from the workers' counters. */
const cacheCounters = (ctx: Ctx) =>
  workerCounters(ctx, {
    hits: "memory_api_search_cache_hits_total",
    misses: "memory_api_search_cache_misses_total",
    rolledForward: "memory_api_search_cache_rolled_forward_total",
    rollRecomputes: "memory_api_search_cache_roll_recomputes_total",
  });

/**
 * Free-tier cached search at a fixed rate (a quarter of this run's cached-search capacity),
 * alone and then beside an open-loop premium rerank load, in interleaved rounds so that a
 * slow spell of the box lands in both; the figure is the median round's p99 of each.
 */
async function isolation(ctx: Ctx, name: string, premiumTitle: string): Promise<ScenarioResult[]> {
  const url = `${ctx.urls.nginx}/v1/search`;
  const body = JSON.stringify({ query: "when is my dentist appointment", collection_id: ctx.freeCollection.id, top_k: 10 });
  const cached = ctx.results.find((r) => r.name === "search-cached-nginx");
  // a fixed offered rate well under capacity: p99 then measures interference, not the queue of a saturated box
  const qps = cached ? Math.max(200, Math.round((cached.rps * 0.25) / 100) * 100) : 2000;
  const free = { url, method: "POST", headers: auth(ctx.tokens.free), body, connections: 50, qps };
  const seconds = Math.max(3, Math.round(ctx.durationSeconds / 2));
  if (ctx.warmupSeconds > 0) await runOha(ctx.oha, { ...free, durationSeconds: ctx.warmupSeconds });
  await freshGeneration(ctx);
  const source = rerankSource(ctx, name, ISOLATION_ROUNDS * (seconds + 4) * PREMIUM_RATE + 1000);
  const before = await rerankCounters(ctx);
  const alone: Measured[] = [];
  const together: Measured[] = [];
  const premium: Measured[] = [];
  for (let round = 0; round < ISOLATION_ROUNDS; round++) {
    alone.push(await ohaMeasured(ctx, free, false, seconds));
    const premiumRun = loaderMeasured(ctx, [source], PREMIUM_CONNECTIONS, seconds + 3, PREMIUM_RATE);
    await Bun.sleep(1500); // the premium load is up to speed before the free tier is measured
    together.push(await ohaMeasured(ctx, free, false, seconds));
    premium.push(await premiumRun);
  }
  const after = await rerankCounters(ctx);
  const [ma, mt, mp] = [medianRun(alone), medianRun(together), medianRun(premium)];
  const rounds = (runs: { load: LoadResult }[]) => runs.map((r) => r.load.latencyMs.p99.toFixed(2)).join(", ");
  const a = toResult(`${name}-alone`, "free tier alone (cached search, fixed rate; median of the rounds)", url, 50, ma.load, ma.cpu, { qps });
  const b = toResult(`${name}-with-rerank`, `free tier beside ${premiumTitle} (${PREMIUM_RATE} req/s; median of the rounds)`, url, 50, mt.load, mt.cpu, { qps });
  const p = toResult(`${name}-premium-load`, `${premiumTitle}: ${PREMIUM_RATE} premium rerank searches/s, open loop`, source.url, PREMIUM_CONNECTIONS, mp.load, mp.cpu, { qps: PREMIUM_RATE });
  rerankNotes(p, mp.load);
  if (before && after) {
    const reranked = after.reranked - before.reranked;
    const fallbacks = after.fallbacks - before.fallbacks;
    p.extra = { ...p.extra, all_rounds_reranked: reranked, all_rounds_unreranked: fallbacks };
    p.notes.push(`all rounds: ${reranked} of ${reranked + fallbacks} premium searches reranked (server counters)`);
  }
  const rise = a.latency_ms.p99 > 0 ? b.latency_ms.p99 / a.latency_ms.p99 - 1 : null;
  b.extra = {
    p99_alone_ms: a.latency_ms.p99,
    p99_with_rerank_ms: b.latency_ms.p99,
    p99_rise: rise,
    p99_alone_rounds_ms: alone.map((r) => r.load.latencyMs.p99),
    p99_with_rerank_rounds_ms: together.map((r) => r.load.latencyMs.p99),
  };
  b.notes.push(
    `free-tier p99 ${a.latency_ms.p99.toFixed(2)} → ${b.latency_ms.p99.toFixed(2)} ms (${rise === null ? "n/a" : (rise >= 0 ? "+" : "") + (100 * rise).toFixed(0) + "%"}); rounds: alone ${rounds(alone)}, beside ${rounds(together)}`,
  );
  a.notes.push(`offered ${qps} req/s (25% of search-cached-nginx's rps when measured in this run), ${ISOLATION_ROUNDS} rounds of ${seconds} s`);
  return [a, b, p];
}

async function rerankScenario(ctx: Ctx, name: string, title: string, connections: number): Promise<ScenarioResult[]> {
  await freshGeneration(ctx);
  const source = rerankSource(ctx, name, connections * ctx.durationSeconds * 40 + 1000);
  const { load, cpu } = await loaderMeasured(ctx, [source], connections);
  const result = toResult(name, title, source.url, connections, load, cpu);
  rerankNotes(result, load);
  return [result];
}

const MIX_TITLE = "90% searches (200 popular queries) / 10% writes (1-memory upserts), Bun loader";
const hitRateText = (rate: number | null) => (rate === null ? "n/a" : `${(100 * rate).toFixed(1)}%`);

/** The 90/10 mix's two request sources against `base` (one nginx); the bodies depend only on the run. */
export function mixSources(ctx: Ctx, base: string): LoaderSource[] {
  mkdirSync(ctx.bodiesDir, { recursive: true });
  const searches = join(ctx.bodiesDir, "mix-searches.jsonl");
  const writes = join(ctx.bodiesDir, "mix-writes.jsonl");
  const popular = generateQueries(200, "mix-popular");
  writeFileSync(searches, popular.map((query) => JSON.stringify({ query, collection_id: ctx.collection.id, top_k: 10 })).join("\n") + "\n");
  // a bounded pool of ids: the writes are upserts, so the collection does not grow run after run
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const m = generateMemory(i, `mix-writes:${ctx.runSeed}`, "mix");
    lines.push(JSON.stringify({ memories: [m] }));
  }
  writeFileSync(writes, lines.join("\n") + "\n");
  const headers = auth(ctx.tokens.enterprise);
  return [
    { name: "search", weight: 90, method: "POST", url: `${base}/v1/search`, headers, bodiesFile: searches, pick: "random" },
    { name: "write", weight: 10, method: "POST", url: `${base}/v1/collections/${ctx.collection.id}/memories`, headers, bodiesFile: writes, pick: "random" },
  ];
}

/**
 * The 90/10 read/write mix: 100 connections of the Bun loader, 90% searches drawn from 200
 * popular queries, 10% one-memory upserts from a bounded pool of ids. The bodies and the
 * loader's seed depend only on the run, so every scenario built on it sends the same requests
 * (mix-90-10 and mix-90-10-no-prewarm differ only in the cluster they run against).
 */
async function mixScenario(ctx: Ctx, name: string, title: string): Promise<ScenarioResult> {
  const sources = mixSources(ctx, ctx.urls.nginx);
  const countersBefore = await cacheCounters(ctx);
  const { load, cpu } = await loaderMeasured(ctx, sources, 100);
  const countersAfter = await cacheCounters(ctx);
  const result = toResult(name, title, `${ctx.urls.nginx}/v1/search + /memories`, 100, load, cpu);
  const per = load.extra?.perSource as Record<string, { requests: number; rps: number; p95_ms: number; p99_ms: number; cached_true: number; status: Record<string, number> }>;
  const searchOk = per.search?.status["200"] ?? 0;
  const hitRate = searchOk ? per.search!.cached_true / searchOk : null;
  result.extra = {
    cache_hit_rate: hitRate,
    search: { rps: per.search?.rps, p95_ms: per.search?.p95_ms, p99_ms: per.search?.p99_ms, requests: per.search?.requests },
    write: { rps: per.write?.rps, p95_ms: per.write?.p95_ms, p99_ms: per.write?.p99_ms, requests: per.write?.requests },
  };
  const answered =
    countersBefore && countersAfter
      ? {
          stored_hits: countersAfter.hits - countersBefore.hits,
          computed_or_rolled: countersAfter.misses - countersBefore.misses,
          rolled_forward: countersAfter.rolledForward - countersBefore.rolledForward,
          roll_recomputes: countersAfter.rollRecomputes - countersBefore.rollRecomputes,
        }
      : null;
  result.extra.answered = answered;
  const split = answered
    ? `: ${answered.stored_hits} stored answers, ${answered.rolled_forward} rolled forward through the change log, ` +
      `${answered.computed_or_rolled - answered.rolled_forward} computed (${answered.roll_recomputes} after a roll-forward gave up)`
    : "";
  result.notes.push(
    `cache hit rate ${hitRateText(hitRate)} of searches (answers saying "cached":true, stored or rolled forward)${split}`,
    `searches ${Math.round(per.search?.rps ?? 0)}/s p99 ${per.search?.p99_ms?.toFixed(1)} ms; writes ${Math.round(per.write?.rps ?? 0)}/s p99 ${per.write?.p99_ms?.toFixed(1)} ms`,
  );
  return result;
}

/**
 * Ingest through the API as a share of the physical limit here: the same texts embedded by the
 * ONNX model alone, in this process, with as many embedding threads as the cluster has (one per
 * worker), in the same batches and the same number in flight. Measured one after the other on
 * an otherwise idle cluster; the memories go to a collection of their own, deleted afterwards.
 */
async function ingestScenario(ctx: Ctx, name: string, title: string): Promise<ScenarioResult> {
  const count = ctx.quick ? 500 : 2000;
  const batchSize = 100;
  const inFlight = 2;
  const seed = `ingest:${ctx.runSeed}`;
  const texts = Array.from({ length: count }, (_, i) => generateMemory(i, seed, "ingest").content);

  const embedder = await createOnnxEmbedder({
    modelDir: process.env.EMBEDDING_MODEL_DIR ?? "models/all-minilm-l6-v2",
    workers: ctx.urls.workers.length,
    maxBatch: 32,
  });
  let raw: { seconds: number; cpu: CpuUse };
  try {
    const meter = startMeter(ctx.clusterPid);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let b = next++; b * batchSize < count; b = next++) await embedder.embed(texts.slice(b * batchSize, (b + 1) * batchSize), "document");
      }),
    );
    raw = { seconds: (performance.now() - t0) / 1000, cpu: meter.stop() };
  } finally {
    await embedder.close();
  }
  const rawRate = count / raw.seconds;
  ctx.say(`    raw embedder: ${count} texts in ${raw.seconds.toFixed(1)} s = ${Math.round(rawRate)} texts/s`);

  const target = { baseUrl: ctx.urls.nginx, token: ctx.tokens.enterprise };
  const collectionId = await ensureCollection({ ...target, name: `bench-ingest-${ctx.runSeed}`, description: "bench: the ingest scenario's memories" });
  const meter = startMeter(ctx.clusterPid);
  const report = await ingest({ ...target, collectionId, count, seed, idPrefix: "ingest", batchSize, concurrency: inFlight, quiet: true });
  const cpu = meter.stop();
  await fetch(`${ctx.urls.nginx}/v1/collections/${collectionId}`, { method: "DELETE", headers: auth(ctx.tokens.enterprise) }).then((r) => r.arrayBuffer());
  const share = report.memoriesPerSecond / rawRate;
  const load: LoadResult = {
    tool: "bun-loader",
    seconds: report.seconds,
    requests: report.batches,
    rps: report.batches / report.seconds,
    latencyMs: { mean: report.batchLatencyMs.p50, p50: report.batchLatencyMs.p50, p90: report.batchLatencyMs.p95, p95: report.batchLatencyMs.p95, p99: report.batchLatencyMs.max, p999: report.batchLatencyMs.max, max: report.batchLatencyMs.max },
    status: { "201": report.batches },
    errors: {},
  };
  const result = toResult(name, title, `${ctx.urls.nginx}/v1/collections/:id/memories`, inFlight, load, cpu);
  result.extra = {
    memories: count,
    api_memories_per_s: Math.round(report.memoriesPerSecond * 10) / 10,
    raw_texts_per_s: Math.round(rawRate * 10) / 10,
    share_of_raw: Math.round(share * 1000) / 1000,
    raw_cpu_cores: raw.cpu.cores,
    retries: report.retries,
  };
  result.notes.push(
    `${Math.round(report.memoriesPerSecond)} memories/s through the API = ${(100 * share).toFixed(0)}% of the raw embedder on the same texts (${Math.round(rawRate)} texts/s, ${ctx.urls.workers.length} threads); batch p50 ${report.batchLatencyMs.p50} ms, p95 ${report.batchLatencyMs.p95} ms` +
      (report.retries ? `; ${report.retries} batches retried after 429/503` : ""),
  );
  return result;
}

export const RYW_TYPES = ["semantic", "keyword", "hybrid", "graph"] as const;
type RywType = (typeof RYW_TYPES)[number];
export interface RywCounts {
  rounds: number;
  checks: Record<RywType | "semantic-after-delete", number>;
  misses: Record<RywType | "semantic-after-delete", number>;
  errors: number;
  examples: string[];
}

/** A made-up, pronounceable word of this writer and round (keyword and graph search can only find its memory). */
function madeUpWord(seed: string): string {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const consonants = "bcdfghjklmnpqrstvwxz";
  const vowels = "aeiou";
  let out = "";
  for (let i = 0; i < 5; i++) {
    out += consonants[h % consonants.length]! + vowels[(h >>> 8) % vowels.length]!;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return out;
}

/**
 * One writer of read-your-writes: writes a memory with made-up words, searches for it at once by
 * every search type (its first hit must be that memory), deletes it and checks a semantic search
 * no longer returns it; until `stop.done`.
 */
export async function rywWriter(
  ctx: Ctx,
  writer: number,
  stop: { done: boolean },
  counts: RywCounts,
  hosts: { write: string; search: string } = { write: ctx.urls.nginx, search: ctx.urls.nginx },
): Promise<void> {
  const headers = { ...auth(ctx.tokens.enterprise), "content-type": "application/json" };
  const search = async (body: Record<string, unknown>): Promise<string[]> => {
    const res = await fetch(`${hosts.search}/v1/search`, { method: "POST", headers, body: JSON.stringify({ collection_id: ctx.collection.id, top_k: 5, ...body }) });
    if (res.status !== 200) throw new Error(`search ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return ((await res.json()) as { results: { id: string }[] }).results.map((r) => r.id);
  };
  const miss = (type: RywType | "semantic-after-delete", id: string, got: string[]) => {
    counts.misses[type]++;
    if (counts.examples.length < 5) counts.examples.push(`${type} ${id}: got ${got.join(", ") || "nothing"}`);
  };
  for (let round = 0; !stop.done; round++) {
    const key = `${ctx.runSeed}-${writer}-${round}`;
    const id = `ryw-${key}`;
    const name = madeUpWord(`${key}:name`);
    const person = name[0]!.toUpperCase() + name.slice(1);
    const thing = madeUpWord(`${key}:thing`);
    const content = `${person} left the ${thing} beside the ${madeUpWord(`${key}:place`)} gate.`;
    try {
      const res = await fetch(`${hosts.write}/v1/collections/${ctx.collection.id}/memories`, { method: "POST", headers, body: JSON.stringify({ memories: [{ id, content }] }) });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`write ${res.status}`);
      const queries: Record<RywType, Record<string, unknown>> = {
        semantic: { query: content, search_type: "semantic" },
        keyword: { query: thing, search_type: "keyword" },
        hybrid: { query: content, search_type: "hybrid" },
        graph: { query: `What did ${person} leave?`, search_type: "graph" },
      };
      for (const type of RYW_TYPES) {
        const found = await search(queries[type]);
        counts.checks[type]++;
        if (found[0] !== id) miss(type, id, found);
      }
      const del = await fetch(`${hosts.write}/v1/collections/${ctx.collection.id}/memories/${id}`, { method: "DELETE", headers });
      await del.arrayBuffer();
      if (del.status !== 204) throw new Error(`delete ${del.status}`);
      const after = await search(queries.semantic);
      counts.checks["semantic-after-delete"]++;
      if (after.includes(id)) miss("semantic-after-delete", id, after);
      counts.rounds++;
    } catch (error) {
      counts.errors++;
      if (counts.examples.length < 5) counts.examples.push(`error: ${error instanceof Error ? error.message : String(error)}`);
      await Bun.sleep(100);
    }
  }
}

/** The mix as background load, with 4 writers checking read-your-writes through it. */
async function readYourWritesScenario(ctx: Ctx, name: string, title: string): Promise<ScenarioResult> {
  const zero = () => ({ semantic: 0, keyword: 0, hybrid: 0, graph: 0, "semantic-after-delete": 0 });
  const counts: RywCounts = { rounds: 0, checks: zero(), misses: zero(), errors: 0, examples: [] };
  const stop = { done: false };
  const writers = Array.from({ length: 4 }, (_, w) => rywWriter(ctx, w, stop, counts));
  let result: ScenarioResult;
  try {
    result = await mixScenario(ctx, name, title);
  } finally {
    stop.done = true;
    await Promise.all(writers);
  }
  const checks = Object.values(counts.checks).reduce((a, b) => a + b, 0);
  const misses = Object.values(counts.misses).reduce((a, b) => a + b, 0);
  result.extra = { ...result.extra, read_your_writes: { ...counts, total_checks: checks, total_misses: misses } };
  result.notes.push(
    `read-your-writes: ${counts.rounds} rounds of 4 writers (write, then semantic, keyword, hybrid and graph search for it, delete, semantic search again): ${checks} checks, ${misses} misses, ${counts.errors} errors` +
      (counts.examples.length > 0 ? `; e.g. ${counts.examples.join("; ")}` : ""),
  );
  return result;
}

/**
 * One free-tier client sends the most expensive requests its limits allow, flat out on 8
 * connections: 25-memory batches of 60 KB texts (4 units each: the whole free minute in one
 * request), graph searches with a long query and the widest filter the API takes (32 keys x 256
 * values), and top_k 100 hybrid searches; meanwhile normal (enterprise) clients search 200
 * popular queries at a fixed rate and /health is probed. The normal clients' p99 is compared with
 * their run alone; the free tier's limits are the defaults (100 units a minute), every other
 * tier's stay raised out of the way.
 */
/** The free tier's own collection "abuse" (made once; the tier's default budget is too small to ingest a big one). */
async function abuserCollection(ctx: Ctx): Promise<string> {
  const created = await fetch(`${ctx.urls.nginx}/v1/collections`, { method: "POST", headers: auth(ctx.tokens.free), body: JSON.stringify({ name: "abuse" }) });
  if (created.status === 201) return ((await created.json()) as { id: string }).id;
  await created.arrayBuffer();
  const list = (await (await fetch(`${ctx.urls.nginx}/v1/collections?limit=1000`, { headers: auth(ctx.tokens.free) })).json()) as { collections: { id: string; name: string }[] };
  const found = list.collections.find((c) => c.name === "abuse");
  if (!found) throw new Error(`abuse: could not create the free tier's collection (${created.status})`);
  return found.id;
}

async function abuseScenario(ctx: Ctx, name: string): Promise<ScenarioResult[]> {
  mkdirSync(ctx.bodiesDir, { recursive: true });
  const searchUrl = `${ctx.urls.nginx}/v1/search`;
  const normalBodies = join(ctx.bodiesDir, "abuse-normal.jsonl");
  writeFileSync(
    normalBodies,
    generateQueries(200, "abuse-popular").map((query) => JSON.stringify({ query, collection_id: ctx.collection.id, top_k: 10 })).join("\n") + "\n",
  );
  const qps = 300;
  const normal: LoaderSource[] = [{ name: "search", method: "POST", url: searchUrl, headers: auth(ctx.tokens.enterprise), bodiesFile: normalBodies, pick: "random" }];
  const health: LoaderSource[] = [{ name: "health", method: "GET", url: `${ctx.urls.nginx}/health` }];
  const seconds = ctx.durationSeconds;

  const longText = (i: number) => `${i} ${generateQueries(1, `abuse-text-${i}`)[0]} ${"lorem ipsum dolor sit amet ".repeat(2200)}`.slice(0, 60_000);
  const batch = JSON.stringify({ memories: Array.from({ length: 25 }, (_, i) => ({ id: `abuse-${i}`, content: longText(i), metadata: { kind: "abuse", n: i } })) });
  const longQuery = generateQueries(40, "abuse-long-query").join(" ").slice(0, 4000);
  const wideFilter = {
    metadata: Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`k${k}`, { $in: Array.from({ length: 256 }, (_, v) => `value-${k}-${v}`) }])),
  };
  const abuserHeaders = auth(ctx.tokens.free);
  const cid = await abuserCollection(ctx);
  const abuser: LoaderSource[] = [
    { name: "batch", weight: 2, method: "POST", url: `${ctx.urls.nginx}/v1/collections/${cid}/memories`, headers: abuserHeaders, body: batch },
    { name: "graph", weight: 2, method: "POST", url: searchUrl, headers: abuserHeaders, body: JSON.stringify({ query: longQuery, collection_id: cid, top_k: 100, search_type: "graph", filters: wideFilter }) },
    { name: "hybrid", weight: 1, method: "POST", url: searchUrl, headers: abuserHeaders, body: JSON.stringify({ query: longQuery, collection_id: cid, top_k: 100, search_type: "hybrid", filters: wideFilter }) },
  ];

  // open loop (a fixed rate), like a population of clients; the Bun loader (no oha needed)
  await loaderMeasured(ctx, normal, 50, Math.max(2, ctx.warmupSeconds), qps); // warm: the 200 answers cached
  const normalAlone = await loaderMeasured(ctx, normal, 50, seconds, qps);
  const healthAlone = await loaderMeasured(ctx, health, 10, seconds, 100);
  // 100 requests a second: what nginx's limit_req lets one address send (the bench's loopback
  // client is exempt from it, so the rate is set here); ABUSE_FLAT_OUT=1 sends flat out instead
  const abuserRate = process.env.ABUSE_FLAT_OUT === "1" ? undefined : 100;
  const abuse = loaderMeasured(ctx, abuser, 8, seconds + 4, abuserRate);
  await Bun.sleep(1500); // the abuser is under way (and has spent its budget) before measuring
  const [normalTogether, healthTogether] = await Promise.all([loaderMeasured(ctx, normal, 50, seconds, qps), loaderMeasured(ctx, health, 10, seconds, 100)]);
  const abuseRun = await abuse;

  const a = toResult(`${name}-normal-alone`, "normal clients alone: 200 popular searches at a fixed rate (enterprise)", searchUrl, 50, normalAlone.load, normalAlone.cpu, { qps });
  const b = toResult(`${name}-normal-with-abuser`, "the same normal clients beside the free-tier abuser", searchUrl, 50, normalTogether.load, normalTogether.cpu, { qps });
  const healthUrl = `${ctx.urls.nginx}/health`;
  const h0 = toResult(`${name}-health-alone`, "/health alone (100 req/s)", healthUrl, 10, healthAlone.load, healthAlone.cpu, { qps: 100 });
  const h = toResult(`${name}-health-with-abuser`, "/health beside the free-tier abuser and the normal clients", healthUrl, 10, healthTogether.load, healthTogether.cpu, { qps: 100 });
  const x = toResult(`${name}-abuser`, `the free-tier abuser: 25 x 60 KB batches, graph and hybrid searches with a 4 KB query and a 32 x 256 filter, 8 connections, ${abuserRate ? `${abuserRate} req/s (nginx's per-address limit)` : "flat out"}`, `${ctx.urls.nginx}/v1/…`, 8, abuseRun.load, abuseRun.cpu);
  const rise = a.latency_ms.p99 > 0 ? b.latency_ms.p99 / a.latency_ms.p99 - 1 : null;
  b.extra = { p99_alone_ms: a.latency_ms.p99, p99_with_abuser_ms: b.latency_ms.p99, p99_rise: rise, health_p99_ms: h.latency_ms.p99 };
  b.notes.push(
    `normal p99 ${a.latency_ms.p99.toFixed(2)} → ${b.latency_ms.p99.toFixed(2)} ms (${rise === null ? "n/a" : (rise >= 0 ? "+" : "") + (100 * rise).toFixed(0) + "%"}); /health p99 ${h0.latency_ms.p99.toFixed(2)} → ${h.latency_ms.p99.toFixed(2)} ms`,
  );
  const per = abuseRun.load.extra?.perSource as Record<string, { requests: number; status: Record<string, number> }> | undefined;
  if (per) {
    x.extra = { per_source: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, v.status])) };
    x.notes.push(`abuser answers by kind: ${Object.entries(per).map(([k, v]) => `${k} ${JSON.stringify(v.status)}`).join("; ")}`);
  }
  return [a, b, h0, h, x];
}

export const SCENARIOS: Scenario[] = [
  {
    name: "hello-direct",
    title: "Bun.serve hello world, direct (ceiling)",
    needs: "hello",
    async run(ctx) {
      const url = `${ctx.urls.helloDirect}/`;
      const { load, cpu } = await ohaMeasured(ctx, { url, connections: 100 });
      return [toResult(this.name, this.title, url, 100, load, cpu)];
    },
  },
  {
    name: "hello-nginx",
    title: "the same hello behind nginx (repo nginx.conf, 2 upstreams)",
    needs: "hello",
    async run(ctx) {
      const url = `${ctx.urls.helloNginx}/`;
      const { load, cpu } = await ohaMeasured(ctx, { url, connections: 100 });
      return [toResult(this.name, this.title, url, 100, load, cpu)];
    },
  },
  {
    name: "health-nginx",
    title: "GET /health via nginx",
    needs: "cluster",
    baseline: "hello-nginx",
    async run(ctx) {
      const url = `${ctx.urls.nginx}/health`;
      const { load, cpu } = await ohaMeasured(ctx, { url, connections: 100 });
      return [toResult(this.name, this.title, url, 100, load, cpu)];
    },
  },
  {
    name: "search-cached-nginx",
    title: "cached semantic search via nginx (one body repeated)",
    needs: "cluster",
    baseline: "hello-nginx",
    async run(ctx) {
      const url = `${ctx.urls.nginx}/v1/search`;
      const body = JSON.stringify({ query: "where did I park at the airport garage", collection_id: ctx.collection.id, top_k: 10 });
      const { load, cpu } = await ohaMeasured(ctx, { url, method: "POST", headers: auth(ctx.tokens.enterprise), body, connections: 100 });
      return [toResult(this.name, this.title, url, 100, load, cpu)];
    },
  },
  {
    name: "search-cached-direct",
    title: "cached semantic search direct to one worker (:8001)",
    needs: "cluster",
    baseline: "hello-direct",
    async run(ctx) {
      const url = `${ctx.urls.direct}/v1/search`;
      const body = JSON.stringify({ query: "where did I park at the airport garage", collection_id: ctx.collection.id, top_k: 10 });
      const { load, cpu } = await ohaMeasured(ctx, { url, method: "POST", headers: auth(ctx.tokens.enterprise), body, connections: 100 });
      return [toResult(this.name, this.title, url, 100, load, cpu)];
    },
  },
  {
    name: "search-uncached-semantic",
    title: "uncached semantic search via nginx, max throughput (unique queries, oha -Z)",
    needs: "cluster",
    async run(ctx) {
      return [await uncachedSearch(ctx, this.name, this.title, { body: { search_type: "semantic" }, connections: 100 })];
    },
  },
  {
    name: "search-uncached-500rps",
    title: "uncached semantic search at a fixed 500 req/s (oha -q 500, latency-corrected)",
    needs: "cluster",
    async run(ctx) {
      return [await uncachedSearch(ctx, this.name, this.title, { body: { search_type: "semantic" }, connections: 100, qps: 500 })];
    },
  },
  {
    name: "search-hybrid",
    title: "uncached hybrid search via nginx (unique queries, oha -Z)",
    needs: "cluster",
    async run(ctx) {
      return [await uncachedSearch(ctx, this.name, this.title, { body: { search_type: "hybrid" }, connections: 100 })];
    },
  },
  {
    name: "search-keyword",
    title: "uncached keyword search via nginx (unique queries, oha -Z)",
    needs: "cluster",
    async run(ctx) {
      return [await uncachedSearch(ctx, this.name, this.title, { body: { search_type: "keyword" }, connections: 100 })];
    },
  },
  ...(["semantic", "keyword", "hybrid"] as const).map(
    (searchType): Scenario => ({
      name: `low-load-${searchType}`,
      title: `uncached ${searchType} search via nginx at 1 connection (unique queries): the latency of one request on an idle service`,
      needs: "cluster",
      async run(ctx) {
        return [await uncachedSearch(ctx, this.name, this.title, { body: { search_type: searchType }, connections: 1 })];
      },
    }),
  ),
  {
    name: "mix-90-10",
    title: MIX_TITLE,
    needs: "cluster",
    async run(ctx) {
      return [await mixScenario(ctx, this.name, this.title)];
    },
  },
  {
    name: "mix-90-10-writes-wait",
    title: "the same mix against a cluster whose writes wait for Milvus to confirm them (FRESH_TAIL=false), as before the fresh tail",
    needs: "cluster",
    // waiting for the writer's Strong count is sound on one replica only (config refuses more)
    clusterEnv: () => ({ FRESH_TAIL: "false", MILVUS_REPLICAS: "1" }),
    async run(ctx) {
      const result = await mixScenario(ctx, this.name, this.title);
      const withTail = ctx.results.find((r) => r.name === "mix-90-10")?.extra?.write as { p99_ms?: number } | undefined;
      const waiting = result.extra?.write as { p99_ms?: number } | undefined;
      if (withTail?.p99_ms !== undefined && waiting?.p99_ms !== undefined) {
        result.notes.push(`write p99: ${waiting.p99_ms.toFixed(1)} ms waiting for Milvus vs ${withTail.p99_ms.toFixed(1)} ms with the fresh tail (mix-90-10)`);
      }
      return [result];
    },
  },
  {
    name: "ingest",
    title: "batches of 100 memories through the API (2 in flight), against the raw embedder on the same texts in the same run",
    needs: "cluster",
    usesOha: false,
    async run(ctx) {
      return [await ingestScenario(ctx, this.name, this.title)];
    },
  },
  {
    name: "mix-90-10-no-roll",
    title: "the same mix against a cluster whose cached answers are not rolled forward after writes (CACHE_ROLL_FORWARD=false): every write makes them misses",
    needs: "cluster",
    clusterEnv: () => ({ CACHE_ROLL_FORWARD: "false" }),
    async run(ctx) {
      return [await mixScenario(ctx, this.name, this.title)];
    },
  },
  {
    name: "read-your-writes",
    title: "the 90/10 mix with 4 more writers that search for what they just wrote, by every search type, and after deleting it",
    needs: "cluster",
    async run(ctx) {
      return [await readYourWritesScenario(ctx, this.name, this.title)];
    },
  },
  {
    name: "two-hosts",
    title: "two hosts: two worker groups, each behind its own nginx, one set of engines, Redis Cluster; the 90/10 mix through both (50 connections each)",
    needs: "cluster",
    usesOha: false,
    clusterEnv: twoHostsClusterEnv,
    async run(ctx) {
      return twoHostsScenario(ctx, this.name, this.title);
    },
  },
  {
    name: "mix-90-10-no-prewarm",
    title: "the same mix against a cluster without popularity TTLs or pre-warming (CACHE_PREWARM_TOP=0, CACHE_PREWARM_COLLECTIONS=0, hot TTL = TTL)",
    needs: "cluster",
    clusterEnv: (base) => ({
      CACHE_PREWARM_TOP: "0",
      CACHE_PREWARM_COLLECTIONS: "0",
      CACHE_HOT_TTL_SECONDS: String(base.cacheTtlSeconds), // one TTL for every answer
    }),
    async run(ctx) {
      const result = await mixScenario(ctx, this.name, this.title);
      const withIt = ctx.results.find((r) => r.name === "mix-90-10");
      const rate = withIt?.extra?.cache_hit_rate as number | null | undefined;
      result.extra = { ...result.extra, cache_hit_rate_with_prewarm: rate ?? null };
      result.notes.push(
        rate === undefined || rate === null
          ? "mix-90-10 (with popularity TTL + pre-warming) was not measured in this run: no side-by-side hit rate"
          : `vs. mix-90-10 with popularity TTL + pre-warming: ${hitRateText(rate)} with, ${hitRateText(result.extra.cache_hit_rate as number | null)} without`,
      );
      return [result];
    },
  },
  {
    name: "rerank-low",
    title: "premium rerank (50 candidates → top 10) at 2 connections, Bun loader",
    needs: "cluster",
    async run(ctx) {
      return rerankScenario(ctx, this.name, this.title, 2);
    },
  },
  {
    name: "rerank-high",
    title: "premium rerank (50 candidates → top 10) at 32 connections, Bun loader",
    needs: "cluster",
    async run(ctx) {
      return rerankScenario(ctx, this.name, this.title, 32);
    },
  },
  {
    name: "isolation",
    title: "free-tier cached search at a fixed rate, alone vs. beside a premium rerank load (3 interleaved rounds)",
    needs: "cluster",
    run(ctx) {
      return isolation(ctx, "isolation", "premium rerank load");
    },
  },
  {
    name: "isolation-no-inference",
    title: "isolation's control: the same premium load against a cluster without a reranker (retrieval of 50 candidates, no inference)",
    needs: "cluster",
    clusterEnv: () => ({ RERANKER_MODEL_DIR: join(tmpdir(), "memory-api-bench-no-reranker") }),
    run(ctx) {
      return isolation(ctx, "isolation-no-inference", "the same premium load, no reranker");
    },
  },
  {
    name: "overload-1000",
    title: "1,000 connections of uncached semantic search via nginx",
    needs: "cluster",
    run(ctx) {
      return overload(ctx, this.name, this.title);
    },
  },
];

/**
 * 1,000 connections of uncached semantic search (unique queries, in order) through the Bun
 * loader, which times the 200 answers apart from the 503s: shed answers are fast and would
 * flatter the percentiles. Reported: the 200s' p50/p95/p99 and the share shed.
 */
async function overload(ctx: Ctx, name: string, title: string): Promise<ScenarioResult[]> {
  const url = `${ctx.urls.nginx}/v1/search`;
  const source: LoaderSource = {
    name: "search",
    method: "POST",
    url,
    headers: auth(ctx.tokens.enterprise),
    bodiesFile: searchBodies(ctx, name, uniqueCount(ctx), { search_type: "semantic" }),
    pick: "sequential",
  };
  const { load, cpu } = await loaderMeasured(ctx, [source], 1000);
  const r = toResult(name, title, url, 1000, load, cpu);
  const per = (load.extra?.perSource as Record<string, { ok_p50_ms: number; ok_p95_ms: number; ok_p99_ms: number; wrapped: number }>)?.search;
  if (per) {
    r.extra = { ok_p50_ms: per.ok_p50_ms, ok_p95_ms: per.ok_p95_ms, ok_p99_ms: per.ok_p99_ms };
    r.notes.push(`the 200 answers alone: p50 ${per.ok_p50_ms.toFixed(0)} ms, p95 ${per.ok_p95_ms.toFixed(0)} ms, p99 ${per.ok_p99_ms.toFixed(0)} ms`);
    if (per.wrapped > 0) r.notes.push("ran out of unique queries: some repeated (cached)");
  }
  const bad = Object.entries(r.status).filter(([code]) => !["200", "429", "503"].includes(code));
  r.notes.push(
    bad.length === 0 && r.error_count === 0
      ? "only 200/429/503 and no transport errors"
      : `unexpected: ${bad.map(([c, n]) => `${n}× ${c}`).join(", ")}${r.error_count ? ` ${r.error_count} errors (${Object.keys(r.errors).join("; ")})` : ""}`,
  );
  const answered = Object.values(r.status).reduce((a, b) => a + b, 0);
  const shed = r.status["503"] ?? 0;
  r.notes.push(`${r.status["200"] ?? 0} answered 200, ${shed} shed with 503 (${answered ? ((100 * shed) / answered).toFixed(1) : "0"}% of answers)`);
  return [r];
}

SCENARIOS.push({
  name: "abuse",
  title: "a free-tier client sending the most expensive requests its limits allow, beside normal searches (issue 18)",
  needs: "cluster",
  usesOha: false,
  // the free tier at its default budget; the other tiers stay out of the way
  clusterEnv: () => ({ RATE_LIMIT_FREE: "100" }),
  run(ctx) {
    return abuseScenario(ctx, "abuse");
  },
});

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);
