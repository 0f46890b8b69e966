/**
 * `bun run bench [scenario…] [--quick]`: the Memory API benchmark, end to end on this machine.
 *
 *   1. checks the real services are up (else says how to start them) and finds/installs oha;
 *   2. starts the baselines (bench/hello.ts on :8091 and :8092, a second nginx from the repo's
 *      nginx.conf on :8090) and `bun run cluster` (2 workers on :8001/:8002 behind the stack's
 *      nginx on :8000; production mode, a fresh JWT secret, rate limits raised out of the way);
 *   3. generates the data once (100,000 memories; --quick 5,000) through the public API and
 *      remembers the collection in bench/results/.state.json, reusing it next time;
 *   4. runs the scenarios (bounded oha / Bun-loader runs on 127.0.0.1; 20 s each, --quick 5 s);
 *   5. writes bench/results/<timestamp>.json and, for a run of every scenario, latest.md and latest.svg
 *      (a run of some writes <timestamp>.md/.svg beside its JSON); stops what it started.
 *
 * Options: --quick, --duration SECONDS, --memories N, --list, --no-baselines (ratio scenarios
 * otherwise pull in their baseline so the ceiling is measured in the same run).
 */
import { readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { loadConfig, ConfigError } from "../src/config";
import { ensureCollection, ingest, FULL_COUNT, QUICK_COUNT, DEFAULT_SEED, type IngestReport } from "./generate";
import { ensureOha, ROOT } from "./oha";
import { BENCH_DIR, portInUse, startBenchNginx, startCluster, startHello, stopAll, stopChild, type Child } from "./processes";
import { evaluateFindings, evaluateTargets, RESULTS_DIR, writeReport, type RunReport } from "./report";
import { SCENARIOS, SCENARIO_NAMES, type Ctx, type Scenario, type ScenarioResult } from "./scenarios";
import { machine, startMeter } from "./system";
import { mintToken } from "./tokens";
import { releaseIfOtherReplicaCount } from "./milvus-replicas";
import { withStackConnections } from "../scripts/stack/connections.ts";

const say = (line: string) => console.error(line);
const STATE_FILE = join(RESULTS_DIR, ".state.json");
const NGINX = "http://127.0.0.1:8000";
const WORKER_PORTS = [8001, 8002];
const HELLO_PORTS = [8091, 8092];
const HELLO_NGINX_PORT = 8090;
const FREE_MEMORIES = 2000;

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  allowPositionals: true,
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    memories: { type: "string" },
    list: { type: "boolean", default: false },
    "no-baselines": { type: "boolean", default: false },
    curve: { type: "boolean", default: false },
    "curve-sizes": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (values.help || values.list) {
  console.log(
    "usage: bun run bench [scenario…] [--quick] [--duration S] [--memories N] [--no-baselines] [--curve [--curve-sizes N,N,…]]\n\n" +
      "  --curve  after the scenarios, the embedded default's cost against collection size (bench/curve.ts:\n" +
      "           10k, 100k and 1M memories unless --curve-sizes; results in bench/results/curve-latest.md)\n\nscenarios:",
  );
  for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(26)} ${s.title}`);
  process.exit(0);
}

const unknown = positionals.filter((p) => !SCENARIO_NAMES.includes(p));
if (unknown.length) {
  console.error(`bench: unknown scenario(s): ${unknown.join(", ")}\n  known: ${SCENARIO_NAMES.join(", ")}`);
  process.exit(2);
}
const quick = values.quick!;
const durationSeconds = values.duration ? Number(values.duration) : quick ? 5 : 20;
if (!(durationSeconds >= 1 && durationSeconds <= 300)) {
  console.error("bench: --duration must be 1..300 seconds");
  process.exit(2);
}
const memories = values.memories ? Number(values.memories) : quick ? QUICK_COUNT : FULL_COUNT;
if (!(Number.isInteger(memories) && memories >= 100 && memories <= 10_000_000)) {
  console.error("bench: --memories must be an integer ≥ 100");
  process.exit(2);
}

// the selection, in the suite's order, with the baselines ratio scenarios compare against
const wanted = new Set(positionals.length ? positionals : SCENARIO_NAMES);
if (!values["no-baselines"]) {
  for (const s of SCENARIOS) {
    if (wanted.has(s.name) && s.baseline && !wanted.has(s.baseline)) {
      say(`bench: adding baseline ${s.baseline} (${s.name} is compared with it in the same run)`);
      wanted.add(s.baseline);
    }
  }
}
const selected = SCENARIOS.filter((s) => wanted.has(s.name));

// ---------------------------------------------------------------------------------------------

interface State {
  version: 1;
  collections: Record<string, { id: string; owner: string; memories: number; seed: string; next_index: number; complete: boolean; ingest?: IngestReport & { at: string } }>;
}

function readState(): State {
  try {
    const s = JSON.parse(readFileSync(STATE_FILE, "utf8")) as State;
    if (s.version === 1) return s;
  } catch {}
  return { version: 1, collections: {} };
}

function saveState(state: State): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${STATE_FILE}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
}

async function tcpUp(port: number): Promise<boolean> {
  return portInUse(port);
}

async function checkStack(): Promise<void> {
  const services: Array<[string, number]> = [["postgres", 5432], ["redis", 6379], ["milvus", 19530], ["neo4j", 7687], ["nginx", 8000]];
  const down: string[] = [];
  for (const [name, port] of services) if (!(await tcpUp(port))) down.push(`${name} (:${port})`);
  if (down.length) {
    throw new Error(
      `the real services are not all up: ${down.join(", ")} down.\n` +
        "  start them:  ./node_modules/.bin/bun run scripts/stack.ts up     (then: ... status)",
    );
  }
  say("stack: postgres, redis, milvus, neo4j, nginx :8000 are up");
}

/** The collection `name` of `owner` with `count` generated memories: reused, resumed or made. */
async function ensureData(state: State, opts: { owner: string; token: string; name: string; count: number; seed: string }) {
  const key = `${opts.owner}/${opts.name}`;
  const target = { baseUrl: NGINX, token: opts.token };
  let entry = state.collections[key];
  if (entry) {
    const res = await fetch(`${NGINX}/v1/collections/${entry.id}`, { headers: { authorization: `Bearer ${opts.token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) {
      say(`data: collection ${entry.id} (${key}) is gone (${res.status}); generating it again`);
      entry = undefined;
    }
  }
  if (!entry) {
    const id = await ensureCollection({ ...target, name: opts.name, description: `bench data: ${opts.count} generated memories` });
    entry = { id, owner: opts.owner, memories: opts.count, seed: opts.seed, next_index: 0, complete: false };
    state.collections[key] = entry;
    saveState(state);
  }
  if (entry.complete && entry.next_index >= opts.count) {
    const rate = entry.ingest ? `, ingested ${entry.ingest.at.slice(0, 19)} at ${Math.round(entry.ingest.memoriesPerSecond)} memories/s` : "";
    say(`data: reusing ${key} = ${entry.id} (${opts.count.toLocaleString("en-US")} memories${rate})`);
    return { entry, report: undefined as IngestReport | undefined };
  }
  const start = entry.next_index;
  say(`data: generating ${(opts.count - start).toLocaleString("en-US")} memories into ${key} = ${entry.id} (batches of 1000 via ${NGINX}${start ? `, resuming at ${start}` : ""})`);
  const report = await ingest({
    ...target,
    collectionId: entry.id,
    count: opts.count - start,
    start,
    seed: opts.seed,
    concurrency: 2,
    onProgress: (p) => {
      entry!.next_index = p.nextIndex;
      saveState(state);
      const pctDone = ((100 * (start + p.done)) / opts.count).toFixed(0);
      say(`  ingest ${(start + p.done).toLocaleString("en-US")}/${opts.count.toLocaleString("en-US")} (${pctDone}%)  ${Math.round(p.memoriesPerSecond).toLocaleString("en-US")} memories/s`);
    },
  });
  entry.next_index = opts.count;
  entry.complete = true;
  entry.ingest = { ...report, at: new Date().toISOString() };
  saveState(state);
  say(`data: ${report.count.toLocaleString("en-US")} memories in ${report.seconds.toFixed(1)} s = ${Math.round(report.memoriesPerSecond).toLocaleString("en-US")} memories/s (batch p50 ${report.batchLatencyMs.p50} ms, p95 ${report.batchLatencyMs.p95} ms)`);
  return { entry, report };
}

// ---------------------------------------------------------------------------------------------

let redis: Redis | undefined;
let cleaningUp = false;
async function cleanup(): Promise<void> {
  if (cleaningUp) return;
  cleaningUp = true;
  say("bench: stopping what it started (cluster drains on SIGTERM)…");
  await stopAll();
  redis?.disconnect();
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    say(`bench: ${sig}`);
    void cleanup().then(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const started = new Date();
  say(`bench: ${selected.map((s) => s.name).join(", ")}; ${durationSeconds} s each${quick ? " (quick)" : ""}`);
  await checkStack();
  const oha = selected.every((s) => s.usesOha === false) ? "" : await ensureOha(say);
  const m = machine(oha);
  const idle = startMeter();
  await Bun.sleep(3000);
  const background = idle.stop();
  const backgroundCores = Math.round(background.busy * m.cpus * 100) / 100;
  const whoBusy = Object.entries(background.cores)
    .filter(([, v]) => (v ?? 0) >= 0.05)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  say(`bench: background CPU before starting: ${backgroundCores} of ${m.cpus} cores${whoBusy ? ` (${whoBusy})` : ""}`);
  if (backgroundCores > 0.3) {
    say("bench: WARNING the box is not idle: figures will be lower than on a quiet machine (see the CPU table of the report)");
  }

  const needHello = selected.some((s) => s.needs === "hello");
  const needCluster = selected.some((s) => s.needs === "cluster");
  const busyPorts = [];
  for (const p of [...(needCluster ? WORKER_PORTS : []), ...(needHello ? [...HELLO_PORTS, HELLO_NGINX_PORT] : [])]) {
    if (await portInUse(p)) busyPorts.push(p);
  }
  if (busyPorts.length) {
    throw new Error(`port(s) ${busyPorts.join(", ")} already in use: stop what listens there (a cluster or server of yours?) and retry`);
  }

  // ---- the API cluster
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64");
  const HIGH = "100000000";
  const clusterEnv: Record<string, string | undefined> = {
    ...withStackConnections(process.env),
    // A standby on the same two cores only takes from the primary's box (the mix served 184
    // req/s with it, 259-286 without: bench/experiments/replica-on-one-box.md); BENCH_PG_REPLICA=1 keeps it.
    ...(process.env.BENCH_PG_REPLICA === "1" ? {} : { DATABASE_REPLICA_URLS: "" }),
    // Likewise the stack's second Milvus query node shares the same cores: one replica unless
    // BENCH_MILVUS_REPLICAS says otherwise (docs/production.md, "Milvus query-node replicas").
    MILVUS_REPLICAS: process.env.BENCH_MILVUS_REPLICAS ?? "1",
    MEMORY_MODE: "production",
    JWT_SECRET: secret,
    CLUSTER_WORKERS: String(WORKER_PORTS.length),
    CLUSTER_BASE_PORT: String(WORKER_PORTS[0]),
    // limits out of the way: the bench measures throughput, not budgets (the limiter still runs)
    RATE_LIMIT_FREE: HIGH,
    RATE_LIMIT_STARTER: HIGH,
    RATE_LIMIT_PRO: HIGH,
    RATE_LIMIT_ENTERPRISE: HIGH,
    RERANK_CANDIDATES: "50",
  };
  // The stack's own replica count (what the suite and `bun run cluster` load with): a run that
  // loaded the collection with another one releases it at the end, so the next server does not
  // find it loaded with a count it refuses.
  const leaveReplicasAsFound = async () => {
    const stackReplicas = Number(withStackConnections(process.env).MILVUS_REPLICAS);
    const released = await releaseIfOtherReplicaCount(String(clusterEnv.MILVUS_ADDRESS), "memories", stackReplicas).catch(() => undefined);
    if (released !== undefined) say(`bench: released the Milvus collection (loaded with ${released} replicas): the stack's servers load it with ${stackReplicas}`);
  };
  const checkedConfig = (env: Record<string, string | undefined>) => {
    try {
      return loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(`the cluster's settings are invalid: ${error.message}`);
      throw error;
    }
  };
  const config = checkedConfig(clusterEnv);
  redis = new Redis(config.production.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisDown = false;
  redis.on("error", (error) => {
    // only the uncached-share figure needs Redis here; say it once per outage, never crash
    if (!redisDown) say(`bench: Redis connection error (${String(error)}); uncached shares may read as unknown`);
    redisDown = true;
  });
  redis.on("ready", () => (redisDown = false));
  await redis.connect();

  // One cluster at a time: the normal one, or one with a scenario's env overrides (clusterEnv),
  // restarted only when the overrides change, so the scenarios after it get the normal one back.
  let cluster: Child | undefined;
  let clusterOverrides: Record<string, string> = {};
  const clusterLogs: string[] = [];
  const overridesOf = (s: Scenario) => s.clusterEnv?.(config) ?? {};
  const sameOverrides = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  const useCluster = async (overrides: Record<string, string>): Promise<Child> => {
    if (cluster && sameOverrides(overrides, clusterOverrides)) return cluster;
    const env = { ...clusterEnv, ...overrides };
    const checked = checkedConfig(env); // a bad override fails here, before the running cluster is stopped
    if (cluster) {
      say("cluster: restarting with other settings (SIGTERM, workers drain)");
      await stopChild(cluster);
      cluster = undefined;
    }
    const released = await releaseIfOtherReplicaCount(checked.production.milvusAddress, "memories", checked.production.milvusReplicas);
    if (released !== undefined) say(`cluster: released the Milvus collection (loaded with ${released} replicas) to load it with ${checked.production.milvusReplicas}`);
    const logName = clusterLogs.length ? `cluster-${clusterLogs.length + 1}` : "cluster";
    clusterLogs.push(logName);
    const settings = Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(" ");
    say(
      `cluster: starting src/cluster.ts (2 workers :${WORKER_PORTS.join(", :")}, production mode, rate limits ${HIGH}/min` +
        `${settings ? `; ${settings}` : ""}); log ${join(BENCH_DIR, `${logName}.log`)}`,
    );
    const t0 = Date.now();
    cluster = await startCluster({ env, logName, ports: WORKER_PORTS, nginxUrl: NGINX, progress: say });
    clusterOverrides = overrides;
    say(`cluster: ready via nginx after ${((Date.now() - t0) / 1000).toFixed(1)} s (supervisor pid ${cluster.proc.pid})`);
    return cluster;
  };

  const results: ScenarioResult[] = [];
  const state = readState();
  let dataInfo: Record<string, unknown> = { memories: memories, how: "not needed" };
  const notes: string[] = [];
  try {
    // started with the settings of the first scenario that needs it (no restart when that one has overrides)
    const firstOnCluster = selected.find((s) => s.needs === "cluster");
    if (firstOnCluster) await useCluster(overridesOf(firstOnCluster));
    let ctx: Ctx | undefined;
    const tokens = needCluster
      ? { enterprise: await mintToken(secret, "bench-enterprise", "enterprise"), free: await mintToken(secret, "bench-free", "free") }
      : { enterprise: "", free: "" };
    let collection = { id: "", memories: 0 };
    let freeCollection = { id: "", memories: 0 };
    if (needCluster) {
      const main = await ensureData(state, { owner: "bench-enterprise", token: tokens.enterprise, name: `bench-${memories}`, count: memories, seed: DEFAULT_SEED });
      collection = { id: main.entry.id, memories };
      const needsFree = selected.some((s) => s.name.startsWith("isolation"));
      if (needsFree) {
        const free = await ensureData(state, { owner: "bench-free", token: tokens.free, name: `bench-free-${FREE_MEMORIES}`, count: FREE_MEMORIES, seed: DEFAULT_SEED });
        freeCollection = { id: free.entry.id, memories: FREE_MEMORIES };
      }
      dataInfo = {
        collection_id: collection.id,
        memories,
        how: main.report ? `generated in this run at ${Math.round(main.report.memoriesPerSecond)} memories/s` : "reused from an earlier run",
        ingest: main.report ?? main.entry.ingest,
        free_collection_id: freeCollection.id || undefined,
      };
      // pre-flight: the search answers with results, and reranking really reranks
      const probe = await fetch(`${NGINX}/v1/search`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.enterprise}`, "content-type": "application/json" },
        body: JSON.stringify({ query: "preflight: where are my spare keys", collection_id: collection.id, top_k: 10, rerank: true }),
      });
      const answer = (await probe.json()) as { results?: unknown[]; reranked?: boolean; rerank_reason?: string };
      if (probe.status !== 200 || !answer.results?.length) throw new Error(`pre-flight search failed: ${probe.status} ${JSON.stringify(answer).slice(0, 300)}`);
      say(`pre-flight: search OK (${answer.results.length} results, reranked: ${answer.reranked}${answer.rerank_reason ? `, ${answer.rerank_reason}` : ""})`);
      if (!answer.reranked) notes.push(`Reranking was not available (${answer.rerank_reason}): rerank scenarios measured unreranked answers.`);
    }

    let hellos: Child[] = [];
    let helloNginx: Child | undefined;
    if (needHello) {
      say(`baselines: bench/hello.ts on :${HELLO_PORTS.join(", :")}, nginx (repo nginx.conf) on :${HELLO_NGINX_PORT}`);
      for (const p of HELLO_PORTS) hellos.push(await startHello(p));
      helloNginx = await startBenchNginx(HELLO_NGINX_PORT, HELLO_PORTS);
    }

    ctx = {
      quick,
      durationSeconds,
      warmupSeconds: quick ? 1 : 2,
      oha,
      urls: {
        nginx: NGINX,
        direct: `http://127.0.0.1:${WORKER_PORTS[0]}`,
        helloDirect: `http://127.0.0.1:${HELLO_PORTS[0]}`,
        helloNginx: `http://127.0.0.1:${HELLO_NGINX_PORT}`,
        workers: WORKER_PORTS.map((port) => `http://127.0.0.1:${port}`),
      },
      tokens,
      collection,
      freeCollection,
      redis,
      clusterPid: cluster?.proc.pid,
      runSeed: `run-${started.getTime()}`,
      bodiesDir: join(BENCH_DIR, "bodies"),
      results,
      say,
      mintToken: (sub, tier) => mintToken(secret, sub, tier),
      startHostGroup: async (ports, nginxPort) => {
        const busy = [];
        for (const p of [...ports, nginxPort]) if (await portInUse(p)) busy.push(p);
        if (busy.length) throw new Error(`port(s) ${busy.join(", ")} already in use: the second host group needs them`);
        const url = `http://127.0.0.1:${nginxPort}`;
        const groupNginx = await startBenchNginx(nginxPort, ports);
        say(`host b: ${ports.length} workers :${ports.join(", :")} behind their own nginx :${nginxPort}, same settings and secret as host a`);
        try {
          const env = { ...clusterEnv, ...clusterOverrides, CLUSTER_WORKERS: String(ports.length), CLUSTER_BASE_PORT: String(ports[0]) };
          const group = await startCluster({ env, logName: "cluster-host-b", ports, nginxUrl: url, progress: say });
          return {
            url,
            async stop() {
              await stopChild(group);
              await stopChild(groupNginx);
            },
          };
        } catch (error) {
          await stopChild(groupNginx);
          throw error;
        }
      },
    };

    const helloScenarios = selected.filter((s) => s.needs === "hello");
    const others = selected.filter((s) => s.needs !== "hello");
    let i = 0;
    const total = selected.length;
    for (const scenario of [...helloScenarios, ...others]) {
      i++;
      if (scenario.needs !== "hello" && helloNginx) {
        // the baselines are done: give their CPU back before the API is measured
        await stopChild(helloNginx);
        for (const h of hellos) await stopChild(h);
        helloNginx = undefined;
        hellos = [];
      }
      say(`[${i}/${total}] ${scenario.name}: ${scenario.title}`);
      try {
        const overrides = scenario.needs === "cluster" ? overridesOf(scenario) : {};
        if (scenario.needs === "cluster") ctx.clusterPid = (await useCluster(overrides)).proc.pid;
        const rows = await scenario.run(ctx);
        for (const r of rows) {
          if (Object.keys(overrides).length) r.extra = { ...r.extra, cluster_env: overrides };
          if (scenario.baseline && r.name === scenario.name) {
            r.baseline = scenario.baseline;
            const base = results.find((b) => b.name === scenario.baseline);
            if (base) r.ratio_to_baseline = Math.round((r.rps / base.rps) * 1000) / 1000;
          }
          results.push(r);
          const st = Object.entries(r.status).map(([c, n]) => `${c}:${n}`).join(" ");
          say(
            `  ${r.name}: ${Math.round(r.rps).toLocaleString("en-US")} rps  p50 ${r.latency_ms.p50.toFixed(2)}  p95 ${r.latency_ms.p95.toFixed(2)}  ` +
              `p99 ${r.latency_ms.p99.toFixed(2)}  max ${r.latency_ms.max.toFixed(1)} ms  [${st}${r.error_count ? ` errors:${r.error_count}` : ""}]` +
              `${r.ratio_to_baseline !== undefined ? `  = ${(100 * r.ratio_to_baseline).toFixed(0)}% of ${r.baseline}` : ""}` +
              `  cpu ${(100 * r.machine_cpu_busy).toFixed(0)}%${r.client_cpu_cores !== undefined ? ` (client ${r.client_cpu_cores.toFixed(2)} cores)` : ""}`,
          );
          for (const n of r.notes) say(`    ${n}`);
        }
      } catch (error) {
        say(`  ${scenario.name} FAILED: ${(error as Error).message}`);
        notes.push(`${scenario.name} failed: ${(error as Error).message.split("\n")[0]}`);
      }
      await Bun.sleep(1000);
    }
  } finally {
    if (cluster) say("cluster: stopping (SIGTERM, workers drain)");
    await cleanup();
    rmSync(join(BENCH_DIR, "bodies"), { recursive: true, force: true }); // per-run query files (tens of MB)
    if (needCluster) await leaveReplicasAsFound();
  }

  notes.push(
    "All load is on 127.0.0.1 and shares the 2 cores with the server, nginx, PostgreSQL, Redis, Milvus and Neo4j: the load generator's own CPU (the `client` cores column) is taken from the same budget, so every figure is a lower bound of what a separate client would see.",
    "oha on this box reaches less than wrk did for the same hello (DESIGN.md's 111–122k rps direct / 51–56k via nginx were wrk's); compare ratios to the baselines measured in the same run, not to those absolute figures.",
    "Rate limits were raised to 100,000,000/min for every tier (RATE_LIMIT_*), so the limiter still runs its Redis script per request but never rejects: budgets do not distort throughput. The isolation scenario therefore uses a real free-tier token.",
    "Uncached scenarios: oha sends one body unless given -Z (a file of bodies, one picked at random per request). Each uncached scenario gets its own file of distinct generated queries (60k quick / 300k full, seeded per run) and first bumps the collection's generation through the API (an upsert of one marker memory), so nothing from an earlier run or scenario is served from the cache; the share actually computed is measured from the Redis cache keys written under that generation.",
    "Rerank, mix and the isolation premium load use bench/loader.ts (a Bun loader, closed loop or at a fixed rate, same JSON shape as oha): rerank needs each query sent once and its answers read (reranked or degraded), the mix needs a 90/10 request mix and to count \"cached\":true. It costs more CPU per request than oha.",
    "search-uncached-500rps offers a fixed 500 req/s (open loop, oha -q with --latency-correction): its p99 answers the ≥ 500 rps / p99 < 100 ms target; search-uncached-semantic is closed-loop at 100 connections, where p99 is mostly queueing (100 / rps).",
    "mix-90-10-no-prewarm sends the same requests as mix-90-10 (same bodies, loader seed, connections and duration) to a cluster restarted with CACHE_PREWARM_TOP=0, CACHE_PREWARM_COLLECTIONS=0 and CACHE_HOT_TTL_SECONDS = CACHE_TTL_SECONDS (no pre-warming, one TTL for every answer); the normal cluster is started again before the next scenario that needs it. The popularity counters are still kept (production always wires them), they just change nothing.",
    "isolation offers the free-tier cached search at a fixed rate (25% of the cached-search rps of this run) alone, then beside an open-loop premium rerank load (16 unique rerank searches a second, 50 candidates each, at most 16 in flight: about three times what the reranker can score beside the free tier, so it is busy throughout), in 3 interleaved rounds; the rise of the median round's p99 is the isolation figure. A closed loop is not used for the premium side: reranking sheds what it cannot finish in time, so a closed loop turns into a flood of fast unreranked (uncached) searches, which measures uncached-search load, not reranking. isolation-no-inference repeats it against a cluster without a reranker: the same premium requests retrieve and hydrate their 50 candidates but run no inference, which separates the cost of the premium searches themselves from that of the cross-encoder.",
  );

  // what the API itself complained about during the run (dependency hiccups, cache bypasses…)
  if (needCluster) {
    const counts = new Map<string, number>();
    for (const logName of clusterLogs) {
      try {
        for (const line of readFileSync(join(BENCH_DIR, `${logName}.log`), "utf8").split("\n")) {
          if (!line.startsWith("{")) continue;
          try {
            const entry = JSON.parse(line) as { level?: string; msg?: string };
            if (entry.level === "warn" || entry.level === "error") {
              const key = `${entry.level}: ${entry.msg}`;
              counts.set(key, (counts.get(key) ?? 0) + 1);
            }
          } catch {}
        }
      } catch {}
    }
    if (counts.size) {
      const list = [...counts].map(([k, n]) => `${n}× "${k}"`).join(", ");
      notes.push(`The cluster logged during the run (${clusterLogs.map((l) => `.stack/bench/${l}.log`).join(", ")}): ${list}.`);
      say(`cluster log: ${list}`);
    }
  }

  const report: RunReport = {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    quick,
    duration_per_scenario_s: durationSeconds,
    machine: machine(oha),
    cluster: {
      workers: WORKER_PORTS.length,
      ports: WORKER_PORTS,
      mode: "production",
      rate_limits_per_min: Number(HIGH),
      rerank_candidates: 50,
      nginx: NGINX,
      starts: clusterLogs.length,
      milvus_replicas: Number(clusterEnv.MILVUS_REPLICAS),
      postgres_replica: clusterEnv.DATABASE_REPLICA_URLS !== "",
    },
    data: dataInfo,
    scenarios: results,
    targets: evaluateTargets(results),
    findings: evaluateFindings(results),
    notes,
  };
  report.machine.load_average_at_start = m.load_average_at_start;
  report.machine.background_cores = backgroundCores;
  report.machine.background_by_role = background.cores;
  const paths = writeReport(report, { latest: selected.length === SCENARIOS.length });
  say("");
  say(readFileSync(paths.md, "utf8"));
  say(`bench: wrote ${paths.json}, ${paths.md}, ${paths.svg}`);
  if (values.curve) await runCurve(values["curve-sizes"]);
}

/** The cost curve (bench/curve.ts), after the scenarios: its own processes, its own results. */
async function runCurve(sizes: string | undefined): Promise<void> {
  const args = ["run", join(import.meta.dir, "curve.ts"), "--duration", String(durationSeconds), ...(sizes ? ["--sizes", sizes] : [])];
  say(`bench: the cost curve: bun ${args.join(" ")}`);
  const child = Bun.spawn([process.execPath, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  const code = await child.exited;
  if (code !== 0) throw new Error(`the cost curve (bench/curve.ts) exited with ${code}`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`bench: ${(error as Error).message}`);
  await cleanup();
  process.exit(1);
}
