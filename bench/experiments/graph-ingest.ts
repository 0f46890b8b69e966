/**
 * The ingest-rate cost of entity extraction: the same generated memories (bench/generate.ts)
 * ingested through the public API of two embedded-mode servers on loopback, one with
 * GRAPH_EXTRACTION=auto and one with GRAPH_EXTRACTION=off, in alternating rounds (off, auto,
 * auto, off, ...) so that drift on a shared machine falls on both. Embedding dominates the
 * API rate, so the script also isolates what auto adds to a write, in this process: the
 * extraction alone (graphFacts over the same texts) and the embedded store's upsert of the same
 * memories (random vectors, no model) with and without their graph facts.
 *
 *   bun run bench/experiments/graph-ingest.ts [--count N (5000)] [--rounds R (2)] [--concurrency C (2)]
 *
 * Prints progress to stderr, the result as JSON to stdout, and writes bench/results/graph-ingest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTokenService } from "../../src/auth/tokens";
import { graphFacts, type ExtractionMode } from "../../src/graph/extract";
import { memoryGraph } from "../../src/graph/memory-graph";
import { openEmbeddedStores } from "../../src/stores/embedded";
import type { MemoryWrite } from "../../src/domain/memory";
import { ensureCollection, generateMemories, ingest, QUICK_COUNT, type IngestReport } from "../generate";
import { ROOT } from "../oha";
import { BENCH_DIR, stopChild, waitHttp, type Child } from "../processes";
import { RESULTS_DIR } from "../report";
import { machine } from "../system";

const say = (line: string) => console.error(line);
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    count: { type: "string", default: String(QUICK_COUNT) },
    rounds: { type: "string", default: "2" },
    concurrency: { type: "string", default: "2" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: bun run bench/experiments/graph-ingest.ts [--count N] [--rounds R] [--concurrency C]");
  process.exit(0);
}
const count = Number(values.count);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
for (const [name, value] of [["count", count], ["rounds", rounds], ["concurrency", concurrency]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`graph-ingest: --${name} must be a positive integer`);
    process.exit(2);
  }
}

const SECRET = `graph-ingest-${crypto.randomUUID()}`; // ≥ 32 characters
const MODES: readonly ExtractionMode[] = ["auto", "off"];

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

interface Server {
  mode: ExtractionMode;
  baseUrl: string;
  child: Child;
  dataDir: string;
}

async function startServer(mode: ExtractionMode): Promise<Server> {
  const port = freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `graph-ingest-${mode}-`));
  mkdirSync(BENCH_DIR, { recursive: true });
  const logPath = join(BENCH_DIR, `graph-ingest-${mode}.log`);
  const log = createWriteStream(logPath, { flags: "w" });
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "src", "index.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEMORY_MODE: "embedded",
      PORT: String(port),
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      GRAPH_EXTRACTION: mode,
      LOG_LEVEL: "warn",
      RATE_LIMITS_ENABLED: "false",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      for await (const chunk of stream) log.write(chunk);
    })();
  }
  const child: Child = { name: `graph-ingest-${mode}`, proc };
  const baseUrl = `http://127.0.0.1:${port}`;
  const began = performance.now();
  await waitHttp(`${baseUrl}/ready`, 120_000, undefined, child);
  say(`  server GRAPH_EXTRACTION=${mode} ready on :${port} after ${((performance.now() - began) / 1000).toFixed(1)} s (log: ${logPath})`);
  return { mode, baseUrl, child, dataDir };
}

/** Extraction alone, in this process: microseconds per memory over the same texts. */
function timeExtraction(n: number): { microsPerMemory: number; entitiesPerMemory: number; relationsPerMemory: number } {
  const texts = [...generateMemories(n)].map((m) => m.content);
  for (const text of texts.slice(0, 200)) graphFacts(text, undefined, "auto"); // JIT warm-up
  let entities = 0;
  let relations = 0;
  const began = performance.now();
  for (const text of texts) {
    const facts = graphFacts(text, undefined, "auto");
    entities += facts.entities.length;
    relations += facts.relations.length;
  }
  const ms = performance.now() - began;
  return { microsPerMemory: (1000 * ms) / n, entitiesPerMemory: entities / n, relationsPerMemory: relations / n };
}

const DIMENSIONS = 384;

/** The embedded store's upsert (extraction included) per memory, µs, with and without graph facts. */
async function timeStore(n: number): Promise<Record<ExtractionMode, number>> {
  const random = () => {
    const v = new Float32Array(DIMENSIONS);
    for (let j = 0; j < DIMENSIONS; j++) v[j] = Math.random() - 0.5;
    return v;
  };
  const micros: Record<ExtractionMode, number[]> = { auto: [], off: [] };
  for (const mode of ["off", "auto", "auto", "off"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "graph-ingest-store-"));
    const stores = openEmbeddedStores({ path: join(dir, "memories.db"), dimensions: DIMENSIONS });
    try {
      const { id } = await stores.collections.create("graph-ingest-bench", { name: "store", description: null });
      let busy = 0;
      for (const batch of chunks([...generateMemories(n)], 1000)) {
        const embeddings = batch.map(random); // outside the timing: the model's part
        const began = performance.now();
        const writes: MemoryWrite[] = batch.map((m, i) => ({ ...m, embedding: embeddings[i]!, graph: memoryGraph(m.content, undefined, mode) }));
        await stores.memories.upsert(id, writes);
        busy += performance.now() - began;
      }
      micros[mode].push((1000 * busy) / n);
    } finally {
      stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { auto: mean(micros.auto), off: mean(micros.off) };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const atStart = machine();
const servers: Server[] = [];
try {
  say(`graph-ingest: ${count.toLocaleString("en-US")} generated memories per run, ${rounds} round(s) per mode, concurrency ${concurrency}`);
  const extraction = timeExtraction(count);
  say(
    `  extraction alone: ${extraction.microsPerMemory.toFixed(1)} µs/memory ` +
      `(${extraction.entitiesPerMemory.toFixed(2)} entities, ${extraction.relationsPerMemory.toFixed(2)} relations per memory)`,
  );
  const store = await timeStore(count);
  say(`  embedded store upsert (extraction included, no embedding): auto ${store.auto.toFixed(1)} µs/memory, off ${store.off.toFixed(1)} µs/memory`);
  for (const mode of MODES) servers.push(await startServer(mode));
  const tokens = createTokenService(SECRET);
  const token = await tokens.sign({ sub: "graph-ingest-bench", tier: "enterprise", ttlSeconds: 3600 });

  const runs: Record<ExtractionMode, IngestReport[]> = { auto: [], off: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["off", "auto"] as const : ["auto", "off"] as const;
    for (const mode of order) {
      const server = servers.find((s) => s.mode === mode)!;
      const collectionId = await ensureCollection({ baseUrl: server.baseUrl, token, name: `graph-ingest-${round}` });
      say(`round ${round + 1}/${rounds}, GRAPH_EXTRACTION=${mode}:`);
      const report = await ingest({ baseUrl: server.baseUrl, token, collectionId, count, concurrency });
      say(`  ${Math.round(report.memoriesPerSecond).toLocaleString("en-US")} memories/s (${report.seconds.toFixed(1)} s)`);
      runs[mode].push(report);
    }
  }

  // the rate of a mode: all its memories over all its time
  const rate = (mode: ExtractionMode) => {
    const total = runs[mode].reduce((sum, r) => sum + r.count, 0);
    const seconds = runs[mode].reduce((sum, r) => sum + r.seconds, 0);
    return total / seconds;
  };
  const auto = rate("auto");
  const off = rate("off");
  const result = {
    date: new Date().toISOString(),
    command: `bun run bench/experiments/graph-ingest.ts --count ${count} --rounds ${rounds} --concurrency ${concurrency}`,
    machine: atStart,
    mode: "embedded",
    count,
    rounds,
    concurrency,
    memoriesPerSecond: { auto: Math.round(auto * 10) / 10, off: Math.round(off * 10) / 10 },
    /** auto / off: 1 means extraction costs nothing measurable */
    ratio: Math.round((auto / off) * 1000) / 1000,
    extractionAlone: {
      microsPerMemory: Math.round(extraction.microsPerMemory * 10) / 10,
      entitiesPerMemory: Math.round(extraction.entitiesPerMemory * 100) / 100,
      relationsPerMemory: Math.round(extraction.relationsPerMemory * 100) / 100,
    },
    storeUpsertMicrosPerMemory: { auto: Math.round(store.auto * 10) / 10, off: Math.round(store.off * 10) / 10 },
    load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100),
    runs: Object.fromEntries(MODES.map((m) => [m, runs[m].map((r) => ({ memoriesPerSecond: Math.round(r.memoriesPerSecond * 10) / 10, seconds: Math.round(r.seconds * 100) / 100, batchLatencyMs: r.batchLatencyMs }))])),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, "graph-ingest.json");
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  say(
    `graph-ingest: auto ${auto.toFixed(1)} memories/s, off ${off.toFixed(1)} memories/s, ratio ${result.ratio} ` +
      `(extraction alone ${extraction.microsPerMemory.toFixed(1)} µs/memory; store upsert ${store.auto.toFixed(0)} vs ${store.off.toFixed(0)} µs/memory); wrote ${out}`,
  );
  console.log(JSON.stringify(result));
} finally {
  for (const server of servers) {
    await stopChild(server.child);
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}
