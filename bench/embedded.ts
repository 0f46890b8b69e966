/**
 * `bun run bench:embedded`: the embedded default (one `bun run start` process on SQLite, what a
 * new user runs) under oha, before and after one change, on the same data in the same run. The
 * cache is off (CACHE_TTL_SECONDS=0), so every answer is computed.
 *
 * - `--compare threads` (default): as it was (vector searches on the event loop, one embedding
 *   worker: EMBEDDED_SEARCH_THREADS=0 EMBED_WORKERS=1) against the defaults (search threads and
 *   an embedding worker per core).
 * - `--compare none`: the defaults alone (the ANN index ready), for a figure at one size (`bun run
 *   bench:curve` runs it at several).
 * - `--compare ann`: exact scans only (EMBEDDED_ANN_MIN_ROWS=off) against the defaults (the
 *   collection searched through its ANN index). The after-server is measured once its index is
 *   ready (loaded from `memory.db.ann/`, or built: `--rebuild-ann` deletes it first, to time the
 *   build); the report adds the build or load time, the index's file size and each server's RSS.
 *
 *   bun run bench:embedded [--memories 20000] [--duration 15] [--connections 32]
 *                          [--compare threads|ann|none] [--types semantic,keyword,hybrid] [--rebuild-ann]
 *                          [--out FILE]   (the results' JSON goes there instead of bench/results/)
 *                          [--peer mem0]  (then mem0 self-hosted on the same data and model, semantic)
 *
 * `--peer mem0` runs bench/peers/mem0 (mem0ai 2.2.1's `Memory`, FAISS flat index, one uvicorn
 * process, our all-MiniLM-L6-v2 int8 folder through onnxruntime) after the Memory API's setups:
 * the same generated memories (ingested once into `.stack/bench-embedded/<memories>/mem0/`, kept)
 * and the same semantic queries, at 1 connection and at `--connections`.
 *
 * The data (generated memories, ingested through the API with progress) is kept under
 * `.stack/bench-embedded/<memories>/` and reused; an interrupted ingest resumes. Results:
 * `bench/results/embedded-<timestamp>.json` and `bench/results/embedded-latest.md`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SEED, ensureCollection, generateMemories, generateQueries, ingest } from "./generate";
import { ensureOha, ROOT, runOha, type LoadResult } from "./oha";
import { BENCH_DIR, portInUse, spawnLogged, stopAll, stopChild, waitHttp, type Child } from "./processes";
import { mintToken } from "./tokens";
import { positiveArg as positive } from "./cli-args";
import { fileStamp, RESULTS_DIR } from "./report";
import { startMem0Peer } from "./peers/mem0/peer";

const { values: args } = parseArgs({
  options: {
    memories: { type: "string", default: "20000" },
    duration: { type: "string", default: "15" },
    connections: { type: "string", default: "32" },
    compare: { type: "string", default: "threads" },
    types: { type: "string", default: "semantic,keyword,hybrid" },
    "rebuild-ann": { type: "boolean", default: false },
    out: { type: "string" },
    peer: { type: "string" },
  },
});
const MEMORIES = positive("memories", args.memories!);
const DURATION = positive("duration", args.duration!);
const CONNECTIONS = positive("connections", args.connections!);

if (args.peer !== undefined && args.peer !== "mem0") throw new Error(`--peer takes mem0, got "${args.peer}"`);

interface Setup {
  name: "before" | "after" | "defaults" | "mem0";
  env: Record<string, string>;
  /** Measured once the ANN index is ready. */
  ann?: boolean;
}
const COMPARISONS: Record<string, { setups: Setup[]; describe: string }> = {
  threads: {
    setups: [
      { name: "before", env: { EMBEDDED_SEARCH_THREADS: "0", EMBED_WORKERS: "1" } },
      { name: "after", env: {}, ann: true },
    ],
    describe:
      "Before: vector searches on the event loop and one embedding worker (`EMBEDDED_SEARCH_THREADS=0 EMBED_WORKERS=1`);\n" +
      `after: the defaults (on this machine ${Math.min(availableParallelism(), 8)} search threads, ${Math.min(availableParallelism(), 4)} embedding workers). Same data, same run.`,
  },
  ann: {
    setups: [
      { name: "before", env: { EMBEDDED_ANN_MIN_ROWS: "off" } },
      { name: "after", env: {}, ann: true },
    ],
    describe:
      "Before: exact scans only (`EMBEDDED_ANN_MIN_ROWS=off`); after: the defaults, the collection searched through its ANN\n" +
      `(HNSW) index, measured once it is ready. Both with ${Math.min(availableParallelism(), 8)} search threads and ${Math.min(availableParallelism(), 4)} embedding workers. Same data, same run.`,
  },
  none: {
    setups: [{ name: "defaults", env: {}, ann: true }],
    describe: `The defaults: ${Math.min(availableParallelism(), 8)} search threads, ${Math.min(availableParallelism(), 4)} embedding workers, the collection searched through its ANN (HNSW) index once it is ready.`,
  },
};
const COMPARISON = ((name: string) => {
  const found = COMPARISONS[name];
  if (found === undefined) throw new Error(`--compare must be one of ${Object.keys(COMPARISONS).join(" | ")}, got "${name}"`);
  return found;
})(args.compare!);
const SETUPS = COMPARISON.setups;
const ALL_TYPES = ["semantic", "keyword", "hybrid"] as const;
const SEARCH_TYPES = args.types!.split(",").map((t) => t.trim());
for (const type of SEARCH_TYPES) {
  if (!(ALL_TYPES as readonly string[]).includes(type)) throw new Error(`--types takes ${ALL_TYPES.join(",")}, got "${type}"`);
}
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
      LOG_LEVEL: "info", // the ANN index's progress (no access log: ACCESS_LOG is off)
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

/** One oha run as a row of the report, printed as it is measured. */
function rowOf(load: LoadResult, type: string, setup: Setup["name"], connections: number): Row {
  const ok = load.status["200"] ?? 0;
  const row: Row = {
    search_type: type,
    setup,
    connections,
    rps: Math.round(load.rps * 10) / 10,
    p50_ms: load.latencyMs.p50,
    p95_ms: load.latencyMs.p95,
    p99_ms: load.latencyMs.p99,
    ok,
    not_ok: load.requests - ok,
  };
  say(`  ${type.padEnd(8)} ${setup.padEnd(6)}  c=${String(connections).padEnd(3)} ${row.rps} req/s  p50 ${row.p50_ms} ms  p95 ${row.p95_ms} ms  p99 ${row.p99_ms} ms${row.not_ok ? `  (${row.not_ok} not 200)` : ""}`);
  return row;
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
      const row = rowOf(load, type, setup.name, connections);
      rows.push(row);
    }
  }
  return rows;
}

const PEER_PORT = 8790;
const PEER_BATCH = 1000;

/** mem0 self-hosted on the same memories and semantic queries (bench/peers/mem0). */
async function measureMem0(oha: string): Promise<Row[]> {
  say("peer: mem0 self-hosted (bench/peers/mem0: FAISS flat index, one uvicorn process, the same model folder)");
  if (await portInUse(PEER_PORT)) throw new Error(`port ${PEER_PORT} is in use: stop what listens there and retry`);
  const peer = await startMem0Peer({ port: PEER_PORT, dataDir: join(home, "mem0"), timeoutMs: 600_000 });
  try {
    const health = async () => (await (await fetch(`${peer.url}/health`)).json()) as { memories: number; mem0ai: string };
    let stored = (await health()).memories;
    if (stored < MEMORIES) say(`  mem0 ingest: ${stored.toLocaleString("en-US")} stored, adding ${(MEMORIES - stored).toLocaleString("en-US")}`);
    const started = performance.now();
    const first = stored;
    // memories are added in order, so the count says where an interrupted ingest resumes
    const all = [...generateMemories(MEMORIES - stored, { seed: DEFAULT_SEED, start: stored })];
    for (let i = 0; i < all.length; i += PEER_BATCH) {
      const batch = all.slice(i, i + PEER_BATCH).map(({ id, content, metadata }) => ({ id, content, metadata }));
      const reply = await fetch(`${peer.url}/memories`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ memories: batch, user_id: "bench" }) });
      if (!reply.ok) throw new Error(`mem0 peer: POST /memories answered ${reply.status}: ${await reply.text()}`);
      await reply.arrayBuffer();
      stored += batch.length;
      const rate = (stored - first) / ((performance.now() - started) / 1000);
      say(`  mem0 ingest ${stored.toLocaleString("en-US")}/${MEMORIES.toLocaleString("en-US")}  ${Math.round(rate)} memories/s`);
    }
    const { memories: count, mem0ai } = await health();
    if (count !== MEMORIES) throw new Error(`mem0 peer holds ${count} memories, expected ${MEMORIES} (delete ${join(home, "mem0")} and rerun)`);
    say(`  mem0ai ${mem0ai}, ${count.toLocaleString("en-US")} memories`);
    const path = join(home, "bodies-mem0.jsonl");
    const lines = generateQueries(50_000, "embedded-bench:semantic").map((query) => JSON.stringify({ query, user_id: "bench", limit: 10 }));
    writeFileSync(path, lines.join("\n") + "\n");
    const rows: Row[] = [];
    for (const connections of [1, CONNECTIONS]) {
      const load = await runOha(oha, { url: `${peer.url}/search`, method: "POST", headers: { "content-type": "application/json" }, bodyLinesFile: path, connections, durationSeconds: DURATION });
      rows.push(rowOf(load, "semantic", "mem0", connections));
    }
    rss.mem0 = rssOfPid(peer.pid);
    return rows;
  } finally {
    await peer.stop();
  }
}

function peerLines(rows: Row[]): string[] {
  const peer = (c: number) => rows.find((r) => r.setup === "mem0" && r.connections === c);
  const ours = (c: number) => rows.find((r) => r.setup === SETUPS.at(-1)!.name && r.search_type === "semantic" && r.connections === c);
  const p1 = peer(1);
  const pn = peer(CONNECTIONS);
  const o1 = ours(1);
  const on = ours(CONNECTIONS);
  if (p1 === undefined || pn === undefined || o1 === undefined || on === undefined) return [];
  const ms = (x: number) => x.toFixed(1);
  return [
    "",
    `mem0 self-hosted on the same ${MEMORIES.toLocaleString("en-US")} memories and model, the same semantic queries (\`--peer mem0\`: mem0ai's \`Memory\`, FAISS flat index, one uvicorn process; bench/peers/mem0):`,
    "",
    `| semantic search | 1 conn p50 / p95 | ${CONNECTIONS} conn req/s | ${CONNECTIONS} conn p95 |`,
    "| --- | --- | --- | --- |",
    `| Memory API (${SETUPS.at(-1)!.name}) | ${ms(o1.p50_ms)} / ${ms(o1.p95_ms)} ms | ${on.rps} | ${ms(on.p95_ms)} ms |`,
    `| mem0 | ${ms(p1.p50_ms)} / ${ms(p1.p95_ms)} ms | ${pn.rps} | ${ms(pn.p95_ms)} ms |`,
    `| ratio | | **${(on.rps / pn.rps).toFixed(2)}×** | |`,
  ];
}

function report(rows: Row[], startedAt: string): string {
  const find = (type: string, setup: Setup["name"], c: number) => rows.find((r) => r.search_type === type && r.setup === setup && r.connections === c)!;
  const lines = [
    `# Embedded mode under load (${startedAt})`,
    "",
    `One \`bun run start\` process (embedded: SQLite, sqlite-vec, FTS5), ${MEMORIES.toLocaleString("en-US")} generated memories,`,
    `unique uncached searches (cache off), top_k 10, oha for ${DURATION} s per row; machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? "?"}.`,
    COMPARISON.describe,
    "",
    ...annLines(),
    "",
    `| search | 1 conn p50 / p95 before | 1 conn p50 / p95 after | ${CONNECTIONS} conn req/s before | ${CONNECTIONS} conn req/s after | ratio | ${CONNECTIONS} conn p95 before / after |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  if (SETUPS.length === 1) {
    lines.splice(-2, 2, `| search | 1 conn p50 / p95 | ${CONNECTIONS} conn req/s | ${CONNECTIONS} conn p50 / p95 |`, "| --- | --- | --- | --- |");
    for (const type of SEARCH_TYPES) {
      const one = find(type, "defaults", 1);
      const many = find(type, "defaults", CONNECTIONS);
      lines.push(`| ${type} | ${one.p50_ms.toFixed(1)} / ${one.p95_ms.toFixed(1)} ms | ${many.rps} | ${many.p50_ms.toFixed(1)} / ${many.p95_ms.toFixed(1)} ms |`);
    }
  }
  for (const type of SETUPS.length === 1 ? [] : SEARCH_TYPES) {
    const b1 = find(type, "before", 1);
    const a1 = find(type, "after", 1);
    const bn = find(type, "before", CONNECTIONS);
    const an = find(type, "after", CONNECTIONS);
    const ms = (x: number) => x.toFixed(1);
    lines.push(
      `| ${type} | ${ms(b1.p50_ms)} / ${ms(b1.p95_ms)} ms | ${ms(a1.p50_ms)} / ${ms(a1.p95_ms)} ms | ${bn.rps} | ${an.rps} | ${(an.rps / bn.rps).toFixed(2)}× | ${ms(bn.p95_ms)} / ${ms(an.p95_ms)} ms |`,
    );
  }
  lines.push(...peerLines(rows));
  const flags = `--memories ${MEMORIES} --duration ${DURATION} --connections ${CONNECTIONS} --compare ${args.compare} --types ${SEARCH_TYPES.join(",")}${args["rebuild-ann"] ? " --rebuild-ann" : ""}${args.peer ? ` --peer ${args.peer}` : ""}`;
  lines.push("", "Command: `bun run bench:embedded " + flags + "`", "");
  return lines.join("\n");
}

const ANN_DIR = join(home, "data", "memory.db.ann");
/** What the after-server's ANN index took: how it became ready, and its files. */
const ann: { ready_s?: number; how?: string; build_s?: number; file_bytes?: number } = {};
const rss: Record<string, number> = {};

/** Resident memory of the server (the process oha loads), from /proc. */
function rssOf(child: Child): number {
  return rssOfPid(child.proc.pid);
}

function rssOfPid(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Waits for the server's "ANN indexes ready" line (it loads or builds the index after it is ready for HTTP). */
async function waitForAnn(child: Child): Promise<void> {
  const logPath = join(BENCH_DIR, `${child.name}.log`);
  const started = performance.now();
  let shown = 0;
  for (;;) {
    const lines = existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n") : [];
    for (const line of lines.slice(shown)) if (line.includes("ANN index")) say(`  ${line}`);
    shown = Math.max(shown, lines.length - 1);
    const built = lines.find((line) => line.includes('"ANN index built"'));
    if (built !== undefined) ann.build_s = (JSON.parse(built) as { seconds: number }).seconds;
    if (lines.some((line) => line.includes('"ANN indexes ready"'))) {
      ann.ready_s = Math.round((performance.now() - started) / 100) / 10;
      ann.file_bytes = existsSync(ANN_DIR)
        ? readdirSync(ANN_DIR).filter((f) => f.endsWith(".usearch")).reduce((n, f) => n + statSync(join(ANN_DIR, f)).size, 0)
        : 0;
      // small collections' loads are not logged: a saved file the server did not build was loaded
      ann.how = built !== undefined ? "built" : lines.some((line) => line.includes('"ANN index loaded"')) || ann.file_bytes > 0 ? "loaded" : "none";
      return;
    }
    if (child.proc.exitCode !== null) throw new Error(`the server exited before its ANN index was ready (see ${logPath})`);
    if (performance.now() - started > 3_600_000) throw new Error("the ANN index was not ready within an hour");
    await Bun.sleep(500);
  }
}

function annLines(): string[] {
  if (ann.how === undefined) return [];
  const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  const lines = [
    `ANN index: ${ann.how}${ann.build_s !== undefined ? ` in ${ann.build_s} s` : ""} (ready ${ann.ready_s} s after the server answered /ready), file ${mib(ann.file_bytes ?? 0)}.`,
  ];
  if (rss.before !== undefined && rss.after !== undefined) lines.push(`Server RSS (highest seen): before ${mib(rss.before)}, after ${mib(rss.after)}.`);
  if (rss.defaults !== undefined) lines.push(`Server RSS (highest seen): ${mib(rss.defaults)}.`);
  if (rss.mem0 !== undefined) lines.push(`mem0 peer RSS after its runs: ${mib(rss.mem0)}.`);
  return lines;
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
    const server = await startServer(SETUPS.at(-1)!);
    await ensureData(token);
    await stopChild(server);
  }
  for (const setup of SETUPS) {
    say(`server: embedded, ${setup.name} (${Object.entries(setup.env).map(([k, v]) => `${k}=${v}`).join(" ") || "defaults"})`);
    if (setup.ann === true && args["rebuild-ann"]) rmSync(ANN_DIR, { recursive: true, force: true });
    const server = await startServer(setup);
    if (setup === SETUPS[0]) await ensureData(token);
    if (setup.ann === true) await waitForAnn(server);
    rss[setup.name] = rssOf(server);
    rows.push(...(await measure(oha, token, setup)));
    rss[setup.name] = Math.max(rss[setup.name] ?? 0, rssOf(server));
    await stopChild(server);
  }
  if (args.peer === "mem0") rows.push(...(await measureMem0(oha)));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify({ started_at: startedAt, memories: MEMORIES, duration_s: DURATION, connections: CONNECTIONS, setups: SETUPS, machine: { cores: availableParallelism(), memory_bytes: totalmem() }, ann, rss_bytes: rss, rows }, null, 2);
  const md = report(rows, startedAt);
  if (args.out !== undefined) {
    writeFileSync(args.out, json); // a part of a larger run (bench:curve), which reports it
  } else {
    writeFileSync(join(RESULTS_DIR, `embedded-${fileStamp(startedAt)}.json`), json);
    writeFileSync(join(RESULTS_DIR, "embedded-latest.md"), md);
  }
  console.log(md);
} finally {
  await stopAll();
}
