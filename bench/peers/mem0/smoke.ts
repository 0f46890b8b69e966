/**
 * Functional smoke check of the mem0 peer (no load, one request at a time):
 *
 *   1. starts server.py on 127.0.0.1 (fresh data directory under .cache/mem0-peer/),
 *   2. adds `--memories` generated memories (bench/generate.ts) through POST /memories,
 *   3. searches with stored memories' own text: the top hit must be that memory, score ≈ 1,
 *   4. runs a few generated queries and prints their top hits,
 *   5. compares the peer's vectors (POST /embed, mem0's embedder) with the Memory API's own
 *      embedder (src/ml/embedder.ts) on the same texts: cosine per text,
 *   6. checks /health reports no network attempt,
 *   7. with `--inprocess N`: times Memory.search in-process at N memories (inprocess.py).
 *
 *   bun run bench/peers/mem0/smoke.ts [--port 8792] [--memories 200] [--inprocess 2000]
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createOnnxEmbedder } from "../../../src/ml/embedder";
import { generateMemories, generateQueries } from "../../generate";
import { DATA_ROOT, ensureMem0Venv, PEER_DIR, ROOT, startMem0Peer } from "./peer";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "8792" }, memories: { type: "string", default: "200" }, inprocess: { type: "string" } },
});
const port = Number(values.port);
const count = Number(values.memories);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Hit {
  id: string;
  memory: string;
  score: number;
  metadata?: Record<string, unknown>;
}

const dataDir = join(DATA_ROOT, "smoke");
rmSync(dataDir, { recursive: true, force: true });
const peer = await startMem0Peer({ port, dataDir });
console.log(`mem0 peer on ${peer.url} (pid ${peer.pid}, data ${dataDir}, log ${peer.logPath})`);
try {
  const health0 = await (await fetch(`${peer.url}/health`)).json();
  console.log(JSON.stringify(health0));

  // 2. ingest
  const memories = [...generateMemories(count)];
  const started = performance.now();
  let added = 0;
  for (let i = 0; i < memories.length; i += 100) {
    const batch = memories.slice(i, i + 100);
    const r = await post<{ count: number; total: number }>(`${peer.url}/memories`, {
      user_id: "bench",
      memories: batch.map((m) => ({ id: m.id, content: m.content, metadata: m.metadata })),
    });
    added += r.count;
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  check(added === count, `added ${added}/${count} memories in ${ingestSeconds.toFixed(2)} s (${(count / ingestSeconds).toFixed(0)}/s over HTTP, batches of 100)`);

  // 3. self-retrieval
  let selfHits = 0;
  const probes = [0, 1, 7, 42, 99, 150, count - 1].filter((i) => i < count);
  for (const i of probes) {
    const m = memories[i]!;
    const { results } = await post<{ results: Hit[] }>(`${peer.url}/search`, { query: m.content, user_id: "bench", limit: 5 });
    const top = results[0];
    const ok = top?.metadata?.external_id === m.id && top.score >= 0.99;
    if (ok) selfHits++;
    console.log(`  ${ok ? "ok  " : "MISS"} ${m.id} top=${top?.metadata?.external_id} score=${top?.score.toFixed(6)} "${m.content.slice(0, 70)}"`);
  }
  check(selfHits === probes.length, `self-retrieval: ${selfHits}/${probes.length} top hits are the memory itself with score ≥ 0.99`);

  // 4. generated queries
  const queries = generateQueries(3);
  for (const q of queries) {
    const { results } = await post<{ results: Hit[] }>(`${peer.url}/search`, { query: q, user_id: "bench", limit: 10 });
    console.log(`  "${q}" → ${results.length} hits`);
    for (const h of results.slice(0, 3)) console.log(`      ${h.score.toFixed(4)} ${h.metadata?.external_id} ${h.memory.slice(0, 80)}`);
    check(results.length > 0 && results.length <= 10, `query "${q.slice(0, 40)}…" answered ${results.length} hits (limit 10)`);
  }

  // 5. same vectors as the Memory API's embedder
  const texts = [...memories.slice(0, 4).map((m) => m.content), ...generateQueries(4), "How do I reset my password?"];
  const { vectors } = await post<{ vectors: number[][] }>(`${peer.url}/embed`, { texts, memory_action: "search" });
  const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) (dot += a[i]! * b[i]!), (na += a[i]! * a[i]!), (nb += b[i]! * b[i]!);
    return dot / Math.sqrt(na * nb);
  };
  for (const batchInvariant of [true, false]) {
    const ours = await createOnnxEmbedder({ modelDir: join(ROOT, "models", "all-minilm-l6-v2"), batchInvariant, queryCacheSize: 0 });
    // one text per call, as mem0 embeds (and as the API embeds a lone search)
    const single: Float32Array[] = [];
    for (const t of texts) single.push((await ours.embed([t], "query"))[0]!);
    const batched = await ours.embed(texts, "query");
    await ours.close();
    const c1 = texts.map((_, i) => cos(vectors[i]!, single[i]!));
    const c2 = texts.map((_, i) => cos(vectors[i]!, batched[i]!));
    const label = batchInvariant ? "batchInvariant" : "default";
    check(Math.min(...c1) >= 0.99, `peer vs Memory API embedder (${label}, one text per call): cosine min ${Math.min(...c1).toFixed(6)} mean ${(c1.reduce((a, b) => a + b, 0) / c1.length).toFixed(6)} over ${texts.length} texts`);
    console.log(`     (${label}, all ${texts.length} texts in one batch: cosine min ${Math.min(...c2).toFixed(6)})`);
  }

  // 6. no network
  const health = (await (await fetch(`${peer.url}/health`)).json()) as { memories: number; network_attempts: number };
  check(health.memories === count, `/health memories ${health.memories}`);
  check(health.network_attempts === 0, `/health network_attempts ${health.network_attempts}`);
} finally {
  await peer.stop();
}

// 7. in-process timing
if (values.inprocess) {
  const n = Number(values.inprocess);
  const dir = join(DATA_ROOT, `inprocess-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dataFile = join(dir, "data.json");
  const memories = [...generateMemories(n)].map((m) => ({ id: m.id, content: m.content, metadata: m.metadata }));
  writeFileSync(dataFile, JSON.stringify({ memories, queries: generateQueries(50, "mem0-peer-timing") }));
  const python = await ensureMem0Venv();
  const proc = Bun.spawn([python, join(PEER_DIR, "inprocess.py"), "--data", dataFile, "--stock-saves", "300"], {
    cwd: ROOT,
    env: { ...process.env, MEM0_PEER_DIR: join(dir, "store"), MEM0_TELEMETRY: "False" },
    stdout: "inherit",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) {
    console.error(stderr);
    failures.push("inprocess.py failed");
  }
}

console.log(failures.length ? `\n${failures.length} check(s) failed` : "\nall checks passed");
process.exit(failures.length ? 1 : 0);
