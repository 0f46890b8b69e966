/**
 * Deterministic generator of realistic memories (personal and work notes with people, places,
 * projects, dates and amounts, plus metadata), and an ingester that fills a collection through
 * the PUBLIC API (POST /v1/collections/:id/memories, batches of 1000) with progress output.
 *
 * Library (other scripts reuse it, e.g. to compare ingest rates with and without entity
 * extraction):
 *
 *   import { ensureCollection, ingest, generateMemory } from "./bench/generate";
 *   const id = await ensureCollection({ baseUrl, token, name: "kg-bench" });
 *   const report = await ingest({ baseUrl, token, collectionId: id, count: 20_000 });
 *   console.log(report.memoriesPerSecond);
 *
 * CLI:
 *
 *   bun run bench/generate.ts --token TOKEN [--url http://127.0.0.1:8000] [--collection ID | --name NAME]
 *                             [--count N | --quick] [--seed S] [--start I] [--concurrency C]
 *   bun run bench/generate.ts --print 5          # show 5 generated memories, send nothing
 *
 * Memory i of seed s is always the same text, metadata and id (`<prefix>-<i>`), whatever was
 * generated before it, so an interrupted ingest resumes with `--start` and re-sending a batch
 * is an idempotent upsert.
 */
import { parseArgs } from "node:util";
import { Rng } from "./prng";
import {
  MONTHS,
  PRIORITIES,
  QUERY_QUALIFIERS,
  QUERY_TEMPLATES,
  SOURCES,
  TEMPLATES,
} from "./vocabulary";

export const DEFAULT_SEED = "memory-api-bench-v1";
export const FULL_COUNT = 100_000;
export const QUICK_COUNT = 5_000;
export const BATCH_SIZE = 1000;

export interface GeneratedMemory {
  id: string;
  content: string;
  metadata: {
    kind: string;
    year: number;
    month: number;
    date: string;
    priority: string;
    source: string;
    tags: string[];
    pinned: boolean;
    [key: string]: unknown;
  };
}

const FIRST_DAY = Date.UTC(2019, 0, 1);
const DAYS = 8 * 365; // 2019 .. 2026

/** Memory number `index` of `seed`: pure, O(1), the same on every run. */
export function generateMemory(index: number, seed: string = DEFAULT_SEED, idPrefix = "m"): GeneratedMemory {
  const rng = new Rng(`${seed}:${index}`);
  const when = new Date(FIRST_DAY + rng.int(0, DAYS - 1) * 86_400_000);
  const year = when.getUTCFullYear();
  const month = when.getUTCMonth() + 1;
  const dayText = `${MONTHS[month - 1]} ${when.getUTCDate()}, ${year}`;
  const draft = rng.pick(TEMPLATES)(rng, dayText);
  const priority = draft.kind === "work" || draft.kind === "health" ? rng.pick(["medium", "high", "high"]) : rng.pick(PRIORITIES);
  const tags = [...new Set([...draft.tags, ...(rng.chance(0.2) ? [rng.pick(["todo", "important", "later", "follow-up"])] : [])])];
  return {
    id: `${idPrefix}-${String(index).padStart(7, "0")}`,
    content: draft.content,
    metadata: {
      ...draft.extra, // first: the common fields below always win
      kind: draft.kind,
      year,
      month,
      date: when.toISOString().slice(0, 10),
      priority,
      source: rng.pick(SOURCES),
      tags,
      pinned: rng.chance(0.05),
    },
  };
}

/** Memories [start, start + count) of `seed`. */
export function* generateMemories(count: number, opts: { seed?: string; start?: number; idPrefix?: string } = {}) {
  const start = opts.start ?? 0;
  for (let i = start; i < start + count; i++) yield generateMemory(i, opts.seed, opts.idPrefix);
}

/**
 * `count` DISTINCT search queries about the generated notes (questions a user would ask,
 * several phrasings). Different seeds give (almost entirely) different queries.
 */
export function generateQueries(count: number, seed: string = DEFAULT_SEED): string[] {
  const rng = new Rng(`queries:${seed}`);
  const seen = new Set<string>();
  let attempts = 0;
  while (seen.size < count) {
    if (++attempts > count * 50) throw new Error(`generateQueries: could not find ${count} distinct queries`);
    let q = rng.pick(QUERY_TEMPLATES)(rng) + rng.pick(QUERY_QUALIFIERS)(rng);
    // past the easy combinations, a second qualifier keeps the space large
    if (seen.has(q)) q += rng.pick(QUERY_QUALIFIERS)(rng);
    seen.add(q);
  }
  return [...seen];
}

// ---------------------------------------------------------------------------------------------
// Talking to the API

export interface ApiTarget {
  /** e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  /** an access token (enterprise tier recommended: a bench must not hit the per-minute budget) */
  token: string;
}

const headers = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

async function api(target: ApiTarget, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${target.baseUrl}${path}`, {
    method,
    headers: headers(target.token),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The id of the caller's collection called `name`, created when it does not exist. */
export async function ensureCollection(opts: ApiTarget & { name: string; description?: string }): Promise<string> {
  const created = await api(opts, "POST", "/v1/collections", { name: opts.name, description: opts.description ?? null });
  if (created.status === 201) return ((await created.json()) as { id: string }).id;
  if (created.status !== 409) throw new Error(`POST /v1/collections: ${created.status} ${await created.text()}`);
  const listed = await api(opts, "GET", "/v1/collections");
  if (!listed.ok) throw new Error(`GET /v1/collections: ${listed.status} ${await listed.text()}`);
  const { collections } = (await listed.json()) as { collections: Array<{ id: string; name: string }> };
  const found = collections.find((c) => c.name === opts.name);
  if (!found) throw new Error(`collection "${opts.name}" exists (409) but is not listed`);
  return found.id;
}

export interface IngestOptions extends ApiTarget {
  collectionId: string;
  /** how many memories (default 100,000) */
  count?: number;
  /** first memory index (resume); default 0 */
  start?: number;
  seed?: string;
  idPrefix?: string;
  /** memories per request, 1..1000 (default 1000) */
  batchSize?: number;
  /** requests in flight (default 2: one per worker of a 2-worker cluster) */
  concurrency?: number;
  /** called after every batch; default prints a progress line to stderr */
  onProgress?: (p: IngestProgress) => void;
  /** silence the default progress output */
  quiet?: boolean;
  /** a memory transform before sending (e.g. to add fields a feature under test needs) */
  transform?: (m: GeneratedMemory) => { id?: string; content: string; metadata?: Record<string, unknown> };
}

export interface IngestProgress {
  done: number;
  total: number;
  elapsedSeconds: number;
  memoriesPerSecond: number;
  /** index of the next memory not yet acknowledged in order: resume point */
  nextIndex: number;
}

export interface IngestReport {
  count: number;
  seconds: number;
  memoriesPerSecond: number;
  batches: number;
  batchSize: number;
  concurrency: number;
  retries: number;
  /** latency of one batch request, ms */
  batchLatencyMs: { p50: number; p95: number; max: number };
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

export function defaultProgress(p: IngestProgress): void {
  const pct = ((100 * p.done) / p.total).toFixed(0);
  const eta = p.memoriesPerSecond > 0 ? (p.total - p.done) / p.memoriesPerSecond : Infinity;
  console.error(
    `  ingest ${p.done.toLocaleString("en-US")}/${p.total.toLocaleString("en-US")} (${pct}%)  ` +
      `${Math.round(p.memoriesPerSecond).toLocaleString("en-US")} memories/s  eta ${fmtDuration(eta)}`,
  );
}

/** How long one batch is retried (its first request included) before the ingest gives up. */
export const RETRY_WINDOW_MS = 10 * 60_000;

/** The same batch body to the same collection always gets the same key (sha-256, hex). */
function batchKey(path: string, body: string): string {
  return `ingest-${new Bun.CryptoHasher("sha256").update(path).update("\n").update(body).digest("hex")}`;
}

/** Overload and "the same batch is still running" (a 409 that carries Retry-After) pass with time. */
function isRetryable(res: Response): boolean {
  if (res.status === 409) return res.headers.has("retry-after");
  return res.status === 429 || res.status === 502 || res.status === 503;
}

/**
 * Sends memories [start, start + count) in batches through POST /v1/collections/:id/memories.
 * Each batch carries an Idempotency-Key derived from its body, so a retry never writes twice: a
 * batch answered 503 by the request timeout keeps running on its worker (and holds the tenant's
 * write slots), and its retry waits for that answer (409 + Retry-After) instead of embedding the
 * batch again. 409 in progress, 429, 502 and 503 are retried after their Retry-After until
 * RETRY_WINDOW_MS has passed for the batch; anything else that is not a 201 throws. Resolves
 * with the measured ingest rate.
 */
export async function ingest(opts: IngestOptions): Promise<IngestReport> {
  const count = opts.count ?? FULL_COUNT;
  const start = opts.start ?? 0;
  const batchSize = opts.batchSize ?? BATCH_SIZE;
  const concurrency = opts.concurrency ?? 2;
  if (batchSize < 1 || batchSize > 1000) throw new Error("batchSize must be 1..1000");
  const progress = opts.onProgress ?? (opts.quiet ? () => {} : defaultProgress);
  const path = `/v1/collections/${opts.collectionId}/memories`;
  const batches = Math.ceil(count / batchSize);
  const latencies: number[] = [];
  const finished = new Array<boolean>(batches).fill(false);
  let nextBatch = 0;
  let done = 0;
  let retries = 0;
  let lastPrint = 0;
  const began = performance.now();

  const send = async (b: number) => {
    const from = start + b * batchSize;
    const n = Math.min(batchSize, start + count - from);
    const memories = [];
    for (let i = from; i < from + n; i++) {
      const m = generateMemory(i, opts.seed, opts.idPrefix);
      memories.push(opts.transform ? opts.transform(m) : m);
    }
    const body = JSON.stringify({ memories });
    const requestHeaders = { ...headers(opts.token), "idempotency-key": batchKey(path, body) };
    const t0 = performance.now();
    for (;;) {
      const res = await fetch(`${opts.baseUrl}${path}`, { method: "POST", headers: requestHeaders, body });
      const text = await res.text();
      if (res.status === 201) {
        latencies.push(performance.now() - t0);
        return n;
      }
      if (isRetryable(res) && performance.now() - t0 < RETRY_WINDOW_MS) {
        retries++;
        const wait = Number(res.headers.get("retry-after") ?? "1");
        await Bun.sleep(Math.min(30, Number.isFinite(wait) ? wait : 1) * 1000);
        continue;
      }
      throw new Error(`ingest batch ${b} (memories ${from}..${from + n - 1}): ${res.status} ${text.slice(0, 300)}`);
    }
  };

  const lane = async () => {
    while (nextBatch < batches) {
      const b = nextBatch++;
      const sent = await send(b); // not `done += await …`: that reads `done` before the await and loses the other lane's count
      done += sent;
      finished[b] = true;
      const now = performance.now();
      if (now - lastPrint > 2000 || done === count) {
        lastPrint = now;
        const elapsed = (now - began) / 1000;
        let firstOpen = finished.indexOf(false);
        if (firstOpen < 0) firstOpen = batches;
        progress({
          done,
          total: count,
          elapsedSeconds: elapsed,
          memoriesPerSecond: done / elapsed,
          nextIndex: Math.min(start + count, start + firstOpen * batchSize),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches) }, lane));
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    count,
    seconds,
    memoriesPerSecond: count / seconds,
    batches,
    batchSize,
    concurrency,
    retries,
    batchLatencyMs: { p50: Math.round(q(0.5)), p95: Math.round(q(0.95)), max: Math.round(latencies.at(-1) ?? 0) },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      url: { type: "string", default: "http://127.0.0.1:8000" },
      token: { type: "string" },
      collection: { type: "string" },
      name: { type: "string" },
      count: { type: "string" },
      quick: { type: "boolean", default: false },
      seed: { type: "string", default: DEFAULT_SEED },
      start: { type: "string", default: "0" },
      concurrency: { type: "string", default: "2" },
      print: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(`usage: bun run bench/generate.ts --token TOKEN [--url URL] [--collection ID | --name NAME]
         [--count N | --quick] [--seed S] [--start I] [--concurrency C]
       bun run bench/generate.ts --print N      show N generated memories (and queries), send nothing`);
    process.exit(0);
  }
  if (values.print !== undefined) {
    const n = Number(values.print);
    for (const m of generateMemories(n, { seed: values.seed })) console.log(JSON.stringify(m));
    for (const q of generateQueries(Math.min(n, 20), values.seed)) console.log(`query: ${q}`);
    process.exit(0);
  }
  if (!values.token) {
    console.error("generate: --token is required (mint one: bun run scripts/token.ts -- --sub bench --tier enterprise --days 1)");
    process.exit(2);
  }
  const count = values.count !== undefined ? Number(values.count) : values.quick ? QUICK_COUNT : FULL_COUNT;
  const target = { baseUrl: values.url!, token: values.token };
  const collectionId =
    values.collection ?? (await ensureCollection({ ...target, name: values.name ?? `bench-${count}`, description: "generated by bench/generate.ts" }));
  console.error(`generate: ${count.toLocaleString("en-US")} memories (seed "${values.seed}") into collection ${collectionId} via ${values.url}`);
  const report = await ingest({
    ...target,
    collectionId,
    count,
    start: Number(values.start),
    seed: values.seed,
    concurrency: Number(values.concurrency),
  });
  console.error(
    `generate: ${report.count.toLocaleString("en-US")} memories in ${report.seconds.toFixed(1)} s = ` +
      `${Math.round(report.memoriesPerSecond).toLocaleString("en-US")} memories/s ` +
      `(batch of ${report.batchSize}: p50 ${report.batchLatencyMs.p50} ms, p95 ${report.batchLatencyMs.p95} ms)`,
  );
  console.log(JSON.stringify({ collection_id: collectionId, ...report }));
}
