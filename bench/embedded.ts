/**
 * `bun run bench:embedded`: the embedded default (one `bun run start` process on SQLite, what a
 * new user runs) under oha, as it was (vector searches on the event loop, one embedding worker:
 * EMBEDDED_SEARCH_THREADS=0 EMBED_WORKERS=1) and as it is (the defaults: search threads and an
 * embedding worker per core), on the same data in the same run. The cache is off
 * (CACHE_TTL_SECONDS=0), so every answer is computed.
 *
 *   bun run bench:embedded [--memories 20000] [--duration 15] [--connections 32]
 *
 * The data (generated memories, ingested through the API with progress) is kept under
 * `.stack/bench-embedded/<memories>/` and reused; an interrupted ingest resumes. Results:
 * `bench/results/embedded-<timestamp>.json` and `bench/results/embedded-latest.md`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SEED, ensureCollection, generateQueries, ingest } from "./generate";
import { ensureOha, ROOT, runOha, type LoadResult } from "./oha";
import { portInUse, spawnLogged, stopAll, stopChild, waitHttp, type Child } from "./processes";
import { mintToken } from "./tokens";

const { values: args } = parseArgs({
  options: {
    memories: { type: "string", default: "20000" },
    duration: { type: "string", default: "15" },
    connections: { type: "string", default: "32" },
  },
});
const positive = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
};
const MEMORIES = positive("memories", args.memories!);
const DURATION = positive("duration", args.duration!);
const CONNECTIONS = positive("connections", args.connections!);

interface Setup {
  name: "before" | "after";
  env: Record<string, string>;
}
const SETUPS: Setup[] = [
  { name: "before", env: { EMBEDDED_SEARCH_THREADS: "0", EMBED_WORKERS: "1" } },
  { name: "after", env: {} },
];
const PORT = 8190;
const URL_BASE = `http://127.0.0.1:${PORT}`;
const HIGH = "100000000";
const say = (line: string) => console.error(line);

interface State {
  secret: string;
  collectionId?: string;
  nextIndex: number;
  complete: boolean;
}

const home = join(ROOT, ".stack", "bench-embedded", String(MEMORIES));
const statePath = join(home, "state.json");
mkdirSync(home, { recursive: true });
const state: State = existsSync(statePath)
  ? (JSON.parse(readFileSync(statePath, "utf8")) as State)
  : { secret: Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"), nextIndex: 0, complete: false };
const saveState = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
saveState();

async function startServer(setup: Setup): Promise<Child> {
  if (await portInUse(PORT)) throw new Error(`port ${PORT} is in use: stop what listens there and retry`);
  const child = spawnLogged(`embedded-${setup.name}`, [process.execPath, "run", "src/index.ts"], {
    env: {
      ...process.env,
      MEMORY_MODE: "embedded",
      DATA_DIR: join(home, "data"),
      PORT: String(PORT),
      JWT_SECRET: state.secret,
      LOG_LEVEL: "warn",
      CACHE_TTL_SECONDS: "0",
      REQUEST_TIMEOUT_MS: "600000", // the ingest's batches, not what is measured
      EMBED_MAX_QUEUE: "100000",
      RATE_LIMIT_FREE: HIGH,
      RATE_LIMIT_STARTER: HIGH,
      RATE_LIMIT_PRO: HIGH,
      RATE_LIMIT_ENTERPRISE: HIGH,
      WRITE_CONCURRENCY_ENTERPRISE: "1000000",
      ...setup.env,
    },
  });
  child.graceMs = 30_000;
  await waitHttp(`${URL_BASE}/ready`, 180_000, undefined, child);
  return child;
}

async function ensureData(token: string): Promise<void> {
  const target = { baseUrl: URL_BASE, token };
  state.collectionId ??= await ensureCollection({ ...target, name: `bench-${MEMORIES}`, description: `bench data: ${MEMORIES} generated memories` });
  saveState();
  if (state.complete) {
    say(`data: reusing ${state.collectionId} (${MEMORIES.toLocaleString("en-US")} memories)`);
    return;
  }
  const start = state.nextIndex;
  say(`data: generating ${(MEMORIES - start).toLocaleString("en-US")} memories through the API${start ? ` (resuming at ${start})` : ""}`);
  await ingest({
    ...target,
    collectionId: state.collectionId,
    count: MEMORIES - start,
    start,
    seed: DEFAULT_SEED,
    batchSize: 250,
    concurrency: 2,
    onProgress: (p) => {
      state.nextIndex = p.nextIndex;
      saveState();
      say(`  ingest ${(start + p.done).toLocaleString("en-US")}/${MEMORIES.toLocaleString("en-US")}  ${Math.round(p.memoriesPerSecond)} memories/s`);
    },
  });
  state.nextIndex = MEMORIES;
  state.complete = true;
  saveState();
}

const SEARCH_TYPES = ["semantic", "keyword", "hybrid"] as const;

const bodiesFiles = new Map<string, string>();

/** Distinct search bodies per search type (written once a run); the cache is off, so repeats cost the same anyway. */
function bodiesFile(type: string): string {
  const written = bodiesFiles.get(type);
  if (written !== undefined) return written;
  const path = join(home, `bodies-${type}.jsonl`);
  const lines = generateQueries(50_000, `embedded-bench:${type}`).map((query) => JSON.stringify({ query, collection_id: state.collectionId, top_k: 10, search_type: type }));
  writeFileSync(path, lines.join("\n") + "\n");
  bodiesFiles.set(type, path);
  return path;
}

interface Row {
  search_type: string;
  setup: Setup["name"];
  connections: number;
  rps: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  ok: number;
  not_ok: number;
}

async function measure(oha: string, token: string, setup: Setup): Promise<Row[]> {
  const rows: Row[] = [];
  for (const type of SEARCH_TYPES) {
    for (const connections of [1, CONNECTIONS]) {
      const load: LoadResult = await runOha(oha, {
        url: `${URL_BASE}/v1/search`,
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        bodyLinesFile: bodiesFile(type),
        connections,
        durationSeconds: DURATION,
      });
      const ok = load.status["200"] ?? 0;
      const row: Row = {
        search_type: type,
        setup: setup.name,
        connections,
        rps: Math.round(load.rps * 10) / 10,
        p50_ms: load.latencyMs.p50,
        p95_ms: load.latencyMs.p95,
        p99_ms: load.latencyMs.p99,
        ok,
        not_ok: load.requests - ok,
      };
      say(`  ${type.padEnd(8)} ${setup.name.padEnd(6)}  c=${String(connections).padEnd(3)} ${row.rps} req/s  p50 ${row.p50_ms} ms  p95 ${row.p95_ms} ms  p99 ${row.p99_ms} ms${row.not_ok ? `  (${row.not_ok} not 200)` : ""}`);
      rows.push(row);
    }
  }
  return rows;
}

function report(rows: Row[], startedAt: string): string {
  const find = (type: string, setup: Setup["name"], c: number) => rows.find((r) => r.search_type === type && r.setup === setup && r.connections === c)!;
  const lines = [
    `# Embedded mode under load (${startedAt})`,
    "",
    `One \`bun run start\` process (embedded: SQLite, sqlite-vec, FTS5), ${MEMORIES.toLocaleString("en-US")} generated memories,`,
    `unique uncached searches (cache off), top_k 10, oha for ${DURATION} s per row; machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? "?"}.`,
    "Before: vector searches on the event loop and one embedding worker (`EMBEDDED_SEARCH_THREADS=0 EMBED_WORKERS=1`);",
    `after: the defaults (on this machine ${Math.min(availableParallelism(), 8)} search threads, ${Math.min(availableParallelism(), 4)} embedding workers). Same data, same run.`,
    "",
    `| search | 1 conn p50 / p95 before | 1 conn p50 / p95 after | ${CONNECTIONS} conn req/s before | ${CONNECTIONS} conn req/s after | ratio | ${CONNECTIONS} conn p95 before / after |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const type of SEARCH_TYPES) {
    const b1 = find(type, "before", 1);
    const a1 = find(type, "after", 1);
    const bn = find(type, "before", CONNECTIONS);
    const an = find(type, "after", CONNECTIONS);
    const ms = (x: number) => x.toFixed(1);
    lines.push(
      `| ${type} | ${ms(b1.p50_ms)} / ${ms(b1.p95_ms)} ms | ${ms(a1.p50_ms)} / ${ms(a1.p95_ms)} ms | ${bn.rps} | ${an.rps} | ${(an.rps / bn.rps).toFixed(2)}× | ${ms(bn.p95_ms)} / ${ms(an.p95_ms)} ms |`,
    );
  }
  lines.push("", "Command: `bun run bench:embedded --memories " + MEMORIES + " --duration " + DURATION + " --connections " + CONNECTIONS + "`", "");
  return lines.join("\n");
}

const startedAt = new Date().toISOString();
const stop = async () => {
  await stopAll();
  process.exit(130);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  const oha = await ensureOha(say);
  const token = await mintToken(state.secret, "bench-embedded", "enterprise");
  const rows: Row[] = [];
  if (!state.complete) {
    say("server: embedded, defaults (for the ingest)");
    const server = await startServer(SETUPS[1]!);
    await ensureData(token);
    await stopChild(server);
  }
  for (const setup of SETUPS) {
    say(`server: embedded, ${setup.name} (${Object.entries(setup.env).map(([k, v]) => `${k}=${v}`).join(" ") || "defaults"})`);
    const server = await startServer(setup);
    if (setup === SETUPS[0]) await ensureData(token);
    rows.push(...(await measure(oha, token, setup)));
    await stopChild(server);
  }
  const stamp = startedAt.replace(/[:.]/g, "-");
  const results = join(ROOT, "bench", "results");
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, `embedded-${stamp}.json`),
    JSON.stringify({ started_at: startedAt, memories: MEMORIES, duration_s: DURATION, connections: CONNECTIONS, setups: SETUPS, machine: { cores: availableParallelism(), memory_bytes: totalmem() }, rows }, null, 2),
  );
  const md = report(rows, startedAt);
  writeFileSync(join(results, "embedded-latest.md"), md);
  console.log(md);
} finally {
  await stopAll();
}
