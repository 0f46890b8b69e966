/**
 * Fault drill under load, against the real services (`bun run stack up` first):
 *
 *   bun run scripts/fault-drill.ts [--outage-seconds 8] [--writers 2] [--searchers 3] [--no-oha]
 *
 * Starts one production-mode API server on loopback, keeps writers (one memory per request,
 * each with its own id) and searchers (semantic, keyword, hybrid in turn) busy, plus oha on one
 * cached search when oha is installed (`.stack/oha/bin/oha` or on PATH; never built here), and
 * meanwhile stops Redis, then Milvus, then Neo4j, then PostgreSQL, each for --outage-seconds,
 * starting each again with the stack script before the next. Every answer is counted by phase.
 * At the end it waits for the outbox to drain and checks that every acknowledged write is in
 * PostgreSQL (through the API), in Milvus and in Neo4j.
 *
 * Writes bench/results/fault-drill.json and prints a table. Exits 1 when an expectation fails:
 * a status other than 2xx/503 (or a 503 without Retry-After, or no answer within 30 s); a
 * search that failed while only Redis was down; a write refused while only Milvus or Neo4j was
 * down; a write that was neither acknowledged nor refused with 503 while PostgreSQL was down;
 * or an acknowledged write missing from any store.
 */
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import neo4j from "neo4j-driver";
import { createTokenService } from "../src/auth/tokens";
import { loadConfig } from "../src/config";
import { OHA_BIN, runOha, type LoadResult } from "../bench/oha";

const ROOT = resolve(import.meta.dir, "..");
const SERVICES = ["redis", "milvus", "neo4j", "postgres"] as const;
type Service = (typeof SERVICES)[number];
const SEARCH_TYPES = ["semantic", "keyword", "hybrid"] as const;
const CLIENT_TIMEOUT_MS = 30_000;

const { values: args } = parseArgs({
  options: {
    "outage-seconds": { type: "string", default: "8" },
    writers: { type: "string", default: "2" },
    searchers: { type: "string", default: "3" },
    port: { type: "string", default: "18420" },
    "no-oha": { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench", "results", "fault-drill.json") },
  },
});
const outageMs = Number(args["outage-seconds"]) * 1000;
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;
const log = (line: string) => console.error(`[drill] ${line}`);

interface Tally {
  statuses: Record<string, number>;
  /** 503s that came without Retry-After, 5xx other than 503, timeouts and connection errors */
  bad: number;
  /** slowest 503, ms (how fast an outage is refused) */
  slowest503Ms: number;
}
const tally = (): Tally => ({ statuses: {}, bad: 0, slowest503Ms: 0 });

interface Phase {
  name: string;
  down: Service | null;
  startedAt: number;
  endedAt?: number;
  writes: Tally;
  searches: Record<(typeof SEARCH_TYPES)[number], Tally>;
}
const phases: Phase[] = [];
let phase: Phase;
const beginPhase = (name: string, down: Service | null) => {
  if (phase) phase.endedAt = Date.now();
  phase = { name, down, startedAt: Date.now(), writes: tally(), searches: { semantic: tally(), keyword: tally(), hybrid: tally() } };
  phases.push(phase);
  log(`phase: ${name}`);
};

function stack(...words: string[]): void {
  const proc = Bun.spawnSync([process.execPath, "run", join(ROOT, "scripts", "stack.ts"), ...words], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`stack ${words.join(" ")} failed:\n${proc.stdout}\n${proc.stderr}`);
}

async function record(t: Tally, send: () => Promise<Response>): Promise<Response | null> {
  const started = performance.now();
  try {
    const response = await send();
    const ms = performance.now() - started;
    t.statuses[response.status] = (t.statuses[response.status] ?? 0) + 1;
    if (response.status === 503) {
      t.slowest503Ms = Math.max(t.slowest503Ms, ms);
      if (!response.headers.get("retry-after")) t.bad++;
    } else if (response.status >= 500) t.bad++;
    return response;
  } catch (error) {
    const kind = error instanceof Error && error.name === "TimeoutError" ? "timeout" : "connection error";
    t.statuses[kind] = (t.statuses[kind] ?? 0) + 1;
    t.bad++;
    return null;
  }
}

async function main() {
  const secret = "fault-drill-secret-of-at-least-32-characters";
  const config = loadConfig({ ...process.env, MEMORY_MODE: "production", JWT_SECRET: secret });
  const server = Bun.spawn([process.execPath, "run", join(ROOT, "src", "index.ts")], {
    cwd: ROOT,
    env: { ...process.env, MEMORY_MODE: "production", PORT: String(port), HOST: "127.0.0.1", JWT_SECRET: secret, RATE_LIMITS_ENABLED: "false", LOG_LEVEL: "error" },
    stdout: "inherit",
    stderr: "inherit",
  });
  try {
    const deadline = Date.now() + 180_000;
    while ((await fetch(`${base}/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error("the API did not become ready (is the stack up? bun run stack up)");
      await Bun.sleep(500);
    }
    const token = await createTokenService(secret).sign({ sub: `drill-${crypto.randomUUID()}`, tier: "enterprise", ttlSeconds: 3600 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const post = (path: string, body: unknown) =>
      fetch(base + path, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    const created = await post("/v1/collections", { name: "fault drill" });
    if (created.status !== 201) throw new Error(`could not create the collection: ${created.status} ${await created.text()}`);
    const cid = ((await created.json()) as { id: string }).id;
    const seeded = await post(`/v1/collections/${cid}/memories`, {
      memories: Array.from({ length: 20 }, (_, i) => ({ id: `seed-${i}`, content: `Seed note ${i}: the ferry to island ${i} leaves at ${7 + (i % 10)} o'clock.` })),
    });
    if (seeded.status !== 201) throw new Error(`could not seed the collection: ${seeded.status}`);

    const acknowledged = new Set<string>(Array.from({ length: 20 }, (_, i) => `seed-${i}`));
    let running = true;
    beginPhase("baseline", null);

    const writer = async (w: number) => {
      for (let n = 0; running; n++) {
        const id = `w${w}-${n}`;
        const response = await record(phase.writes, () =>
          post(`/v1/collections/${cid}/memories`, { memories: [{ id, content: `Drill note ${id}: parcel ${n} goes to depot ${w} in Porto on Friday.` }] }),
        );
        if (response?.status === 201) acknowledged.add(id);
        if (response && response.status !== 201) await Bun.sleep(50); // a refused client backs off a little
      }
    };
    const searcher = async (s: number) => {
      for (let n = 0; running; n++) {
        const type = SEARCH_TYPES[(s + n) % SEARCH_TYPES.length]!;
        const response = await record(phase.searches[type], () =>
          post("/v1/search", { query: `when does the ferry to island ${n % 20} leave`, collection_id: cid, search_type: type, top_k: 5 }),
        );
        await response?.arrayBuffer();
        if (response && response.status !== 200) await Bun.sleep(50);
      }
    };
    const load = [
      ...Array.from({ length: Number(args.writers) }, (_, w) => writer(w)),
      ...Array.from({ length: Number(args.searchers) }, (_, s) => searcher(s)),
    ];

    const ohaBin = args["no-oha"] ? null : existsSync(OHA_BIN) ? OHA_BIN : Bun.which("oha");
    const drillSeconds = Math.ceil((5_000 + SERVICES.length * (outageMs + 30_000)) / 1000);
    const oha: Promise<LoadResult | null> = ohaBin
      ? runOha(ohaBin, {
          url: `${base}/v1/search`,
          method: "POST",
          headers,
          body: JSON.stringify({ query: "ferry timetable", collection_id: cid, search_type: "keyword" }),
          connections: 4,
          durationSeconds: drillSeconds,
          timeoutSeconds: 30,
        }).catch((error: unknown) => {
          log(`oha failed: ${String(error)}`);
          return null;
        })
      : Promise.resolve(null);
    if (!ohaBin) log("oha not installed (bun run bench installs it); the Bun clients alone make the load");

    await Bun.sleep(5_000);
    for (const service of SERVICES) {
      stack("stop", service);
      beginPhase(`${service} down`, service);
      await Bun.sleep(outageMs);
      stack("start", service);
      beginPhase(`${service} back`, null);
      const back = Date.now() + 120_000;
      while ((await fetch(`${base}/ready`).then((r) => r.status, () => 0)) !== 200 && Date.now() < back) await Bun.sleep(500);
      await Bun.sleep(3_000); // a little load on the recovered service before the next outage
    }
    running = false;
    await Promise.all(load);
    phase.endedAt = Date.now();
    const ohaResult = await oha;

    log(`${acknowledged.size} writes acknowledged; waiting for the outbox to deliver them all`);
    const drained = Date.now() + 300_000;
    let backlog = "";
    while (Date.now() < drained) {
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text(), () => "");
      const rows = [...metrics.matchAll(/^memory_api_outbox_backlog\{target="(\w+)"\} (\d+)$/gm)];
      backlog = rows.map((m) => `${m[1]}=${m[2]}`).join(" ");
      if (rows.length > 0 && rows.every((m) => m[2] === "0")) break;
      await Bun.sleep(1000);
    }
    log(`outbox backlog: ${backlog}`);

    const inPostgres = new Set<string>();
    for (let cursor: string | null = null; ; ) {
      const response = await fetch(`${base}/v1/collections/${cid}/memories?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { headers });
      const page = (await response.json()) as { memories: { id: string }[]; next_cursor: string | null };
      for (const m of page.memories) inPostgres.add(m.id);
      if (!(cursor = page.next_cursor)) break;
    }
    const milvus = new MilvusClient({ address: config.production.milvusAddress });
    const inMilvus = new Set<string>();
    try {
      // one query per id prefix: Milvus 2.3 answers at most 16,384 rows a query
      for (const prefix of ["seed-", ...Array.from({ length: Number(args.writers) }, (_, w) => `w${w}-`)]) {
        const answer = await milvus.query({
          collection_name: "memories",
          filter: `collection_id == "${cid}" && memory_id like "${prefix}%"`,
          output_fields: ["memory_id"],
          limit: 16_384,
        });
        for (const row of answer.data) inMilvus.add(String(row.memory_id));
      }
    } finally {
      await milvus.closeConnection();
    }
    const driver = neo4j.driver(config.production.neo4jUri);
    const inNeo4j = new Set<string>();
    try {
      const result = await driver.executeQuery("MATCH (m:Memory {collection_id: $cid}) RETURN m.id AS id", { cid });
      for (const r of result.records) inNeo4j.add(String(r.get("id")));
    } finally {
      await driver.close();
    }
    const missing = (store: Set<string>) => [...acknowledged].filter((id) => !store.has(id));
    const lost = { postgres: missing(inPostgres), milvus: missing(inMilvus), neo4j: missing(inNeo4j) };

    const problems: string[] = [];
    const sum = (t: Tally, pred: (s: string) => boolean) => Object.entries(t.statuses).filter(([s]) => pred(s)).reduce((n, [, c]) => n + c, 0);
    for (const p of phases) {
      for (const t of [p.writes, ...Object.values(p.searches)]) if (t.bad > 0) problems.push(`${p.name}: ${t.bad} answers were not 2xx or 503 + Retry-After`);
      if (p.down === "redis") {
        for (const [type, t] of Object.entries(p.searches)) if (sum(t, (s) => s !== "200") > 0) problems.push(`redis down: ${type} searches failed`);
        if (sum(p.writes, (s) => s !== "201") > 0) problems.push("redis down: writes were refused");
      }
      if ((p.down === "milvus" || p.down === "neo4j") && sum(p.writes, (s) => s !== "201") > 0) problems.push(`${p.down} down: writes were refused`);
      if (p.down === "postgres" && sum(p.writes, (s) => s === "503") === 0) problems.push("postgres down: no write was refused with 503");
    }
    if (sum(phases.at(-1)!.writes, (s) => s === "201") === 0) problems.push("no write was acknowledged after the last recovery");
    for (const [store, ids] of Object.entries(lost)) if (ids.length > 0) problems.push(`${ids.length} acknowledged writes missing from ${store}: ${ids.slice(0, 5).join(", ")}`);
    if (ohaResult && Object.keys(ohaResult.errors).length > 0) problems.push(`oha saw errors: ${JSON.stringify(ohaResult.errors)}`);

    const report = {
      at: new Date().toISOString(),
      outage_seconds: outageMs / 1000,
      writers: Number(args.writers),
      searchers: Number(args.searchers),
      acknowledged_writes: acknowledged.size,
      lost: { postgres: lost.postgres.length, milvus: lost.milvus.length, neo4j: lost.neo4j.length },
      phases: phases.map((p) => ({ ...p, seconds: ((p.endedAt ?? Date.now()) - p.startedAt) / 1000 })),
      oha: ohaResult && { requests: ohaResult.requests, rps: ohaResult.rps, status: ohaResult.status, errors: ohaResult.errors, p99_ms: ohaResult.latencyMs.p99 },
      problems,
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(args.out!, JSON.stringify(report, null, 2) + "\n");

    const fmt = (t: Tally) => Object.entries(t.statuses).map(([s, c]) => `${s}:${c}`).join(" ") || "-";
    console.log("| phase | s | writes | semantic | keyword | hybrid | slowest 503 (ms) |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const p of report.phases) {
      const slowest = Math.max(p.writes.slowest503Ms, ...Object.values(p.searches).map((t) => t.slowest503Ms));
      console.log(`| ${p.name} | ${p.seconds.toFixed(0)} | ${fmt(p.writes)} | ${fmt(p.searches.semantic)} | ${fmt(p.searches.keyword)} | ${fmt(p.searches.hybrid)} | ${slowest ? slowest.toFixed(0) : "-"} |`);
    }
    if (report.oha) console.log(`oha (keyword search, 4 connections, whole drill): ${JSON.stringify(report.oha)}`);
    console.log(
      `drill: ${acknowledged.size} writes acknowledged, lost postgres=${report.lost.postgres} milvus=${report.lost.milvus} neo4j=${report.lost.neo4j}, ${problems.length} problems`,
    );
    for (const p of problems) console.log(`problem: ${p}`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  } finally {
    for (const service of SERVICES) {
      try {
        stack("start", service); // whatever an aborted drill left stopped
      } catch (error) {
        log(String(error));
      }
    }
    server.kill("SIGTERM");
    await server.exited;
  }
}

await main();
