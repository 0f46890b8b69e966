/**
 * Store-level figures for the Milvus and Neo4j adapters (not a test): writer rates and Milvus
 * search latency at 20k and 100k vectors in one collection (one partition-key value),
 * unfiltered and filtered, with recall against exact cosine. Uses its own Milvus collection
 * and Neo4j collection id, removed at the end.
 *
 *   bun run bench/experiments/milvus-neo4j.ts [--max 100000] [--queries 200]
 */
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { parseArgs } from "node:util";
import { createLogger } from "../../src/log.ts";
import { openMilvusIndex } from "../../src/stores/milvus/index.ts";
import { openNeo4jGraph } from "../../src/stores/neo4j/index.ts";
import { MATCH_ALL, type SearchFilter } from "../../src/domain/search.ts";
import type { IndexedMemory } from "../../src/ports/index-writer.ts";

const { values: args } = parseArgs({
  options: {
    max: { type: "string", default: "100000" },
    queries: { type: "string", default: "200" },
    milvus: { type: "string", default: "127.0.0.1:19530" },
    neo4j: { type: "string", default: "bolt://127.0.0.1:7687" },
  },
});
const MAX = Number(args.max);
const QUERIES = Number(args.queries);
const DIM = 384;
const BATCH = 1000;
const STAGES = [20_000, 100_000].filter((n) => n <= MAX);
const log = createLogger("warn");
const say = (msg: string) => process.stdout.write(`${msg}\n`);

// Clustered unit vectors (closer to real embeddings than uniform noise), deterministic.
let seed = 42;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
};
const unit = (v: Float32Array) => {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
};
const centres = Array.from({ length: 256 }, () => unit(Float32Array.from({ length: DIM }, rand)));
const sample = () => {
  const c = centres[Math.floor((rand() + 0.5) * centres.length) % centres.length]!;
  return unit(Float32Array.from({ length: DIM }, (_, i) => c[i]! + rand() * 0.12));
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms`;

async function milvusBench(): Promise<void> {
  const collection = `bench_${Date.now().toString(36)}`;
  const collectionId = crypto.randomUUID();
  const index = await openMilvusIndex({ address: args.milvus, collection, dimensions: DIM, log });
  const admin = new MilvusClient({ address: args.milvus, logLevel: "error" });
  const vectors: Float32Array[] = [];
  const tags: string[] = [];
  try {
    await index.warm();
    say(`milvus: collection ${collection}, ${DIM}-d, batches of ${BATCH}`);
    let written = 0;
    for (const stage of STAGES) {
      const times: number[] = [];
      const started = performance.now();
      while (written < stage) {
        const batch: IndexedMemory[] = Array.from({ length: BATCH }, (_, i) => {
          const n = written + i;
          const embedding = sample();
          vectors.push(embedding);
          tags.push(`t${n % 10}`);
          return {
            collection_id: collectionId,
            id: `m${n}`,
            content: "",
            metadata: { tag: `t${n % 10}`, n, flag: n % 2 === 0 },
            embedding,
            created_at: new Date(1_700_000_000_000 + n).toISOString(),
          };
        });
        const t = performance.now();
        await index.writer.upsert(batch);
        times.push(performance.now() - t);
        written += BATCH;
      }
      const secs = (performance.now() - started) / 1000;
      say(`  upsert to ${stage}: ${(times.length * BATCH / secs).toFixed(0)} rows/s (per 1000-row batch ${fmt(times)}; delete+insert+visibility barrier)`);

      await searchFigures(index, admin, collection, collectionId, vectors, tags, "growing segments (as written)");
      const f = performance.now();
      await admin.flushSync({ collection_names: [collection] });
      for (;;) {
        const d = await admin.describeIndex({ collection_name: collection, field_name: "embedding" });
        const desc = d.index_descriptions[0]!;
        if (desc.state === "Finished" && Number(desc.indexed_rows) >= Number(desc.total_rows) && Number(desc.pending_index_rows) === 0) break;
        await Bun.sleep(500);
      }
      say(`  flush + HNSW build of ${stage}: ${((performance.now() - f) / 1000).toFixed(1)} s`);
      await searchFigures(index, admin, collection, collectionId, vectors, tags, "after flush + HNSW build");
    }
    // Warm cost: release and load again (what a fresh Milvus start pays in warm()).
    await admin.releaseCollection({ collection_name: collection });
    const l = performance.now();
    const again = await openMilvusIndex({ address: args.milvus, collection, dimensions: DIM, log });
    await again.warm();
    say(`  warm() (load) of ${written} vectors: ${((performance.now() - l) / 1000).toFixed(1)} s`);
    await again.close();
  } finally {
    await index.close();
    await admin.dropCollection({ collection_name: collection });
    admin.closeConnection();
  }
}

async function searchFigures(
  index: Awaited<ReturnType<typeof openMilvusIndex>>,
  admin: MilvusClient,
  collection: string,
  collectionId: string,
  vectors: Float32Array[],
  tags: string[],
  label: string,
): Promise<void> {
  const queries = Array.from({ length: QUERIES }, sample);
  const exactTop = (q: Float32Array, k: number, keep: (i: number) => boolean) => {
    const scored: [number, number][] = [];
    for (let i = 0; i < vectors.length; i++) {
      if (!keep(i)) continue;
      const v = vectors[i]!;
      let dot = 0;
      for (let j = 0; j < DIM; j++) dot += q[j]! * v[j]!;
      scored.push([i, dot]);
    }
    scored.sort((a, b) => b[1] - a[1]);
    return new Set(scored.slice(0, k).map(([i]) => `m${i}`));
  };
  const cases: [string, SearchFilter, (i: number) => boolean][] = [
    ["unfiltered", MATCH_ALL, () => true],
    ["tag == t3 (10%)", { kind: "metadata", key: "tag", op: "eq", value: "t3" }, (i) => tags[i] === "t3"],
    [
      "n in a 0.5% range",
      {
        kind: "and",
        nodes: [
          { kind: "metadata", key: "n", op: "gte", value: 1000 },
          { kind: "metadata", key: "n", op: "lte", value: 1000 + Math.floor(vectors.length * 0.005) },
        ],
      },
      (i) => i >= 1000 && i <= 1000 + Math.floor(vectors.length * 0.005),
    ],
  ];
  say(`  search k=10 at ${vectors.length} vectors, ${label}:`);
  for (const [name, filter, keep] of cases) {
    const times: number[] = [];
    let recall = 0;
    for (const [qi, q] of queries.entries()) {
      const t = performance.now();
      const hits = await index.vectors.search(collectionId, q, 10, filter);
      times.push(performance.now() - t);
      if (qi < 50) {
        const truth = exactTop(q, 10, keep);
        recall += hits.filter((h) => truth.has(h.id)).length / truth.size;
      }
    }
    say(`    ${name.padEnd(20)} ${fmt(times)}, recall@10 ${(recall / Math.min(50, queries.length)).toFixed(3)}`);
  }
  const strong: number[] = [];
  for (const q of queries.slice(0, 20)) {
    const t = performance.now();
    await admin.search({ collection_name: collection, vector: q as unknown as number[], limit: 10, filter: `collection_id == "${collectionId}"`, output_fields: [], params: { ef: 64 }, consistency_level: 0 as never });
    strong.push(performance.now() - t);
  }
  say(`    ${"unfiltered, Strong".padEnd(20)} ${fmt(strong)} (what visibility: "search" pays)`);
}

async function neo4jBench(): Promise<void> {
  const graph = await openNeo4jGraph({ uri: args.neo4j, log, poolSize: 8 });
  await graph.warm();
  const collectionId = `bench-${crypto.randomUUID()}`;
  const total = Math.min(MAX, 20_000);
  try {
    const times: number[] = [];
    const started = performance.now();
    for (let b = 0; b < total; b += BATCH) {
      const batch: IndexedMemory[] = Array.from({ length: BATCH }, (_, i) => ({
        collection_id: collectionId,
        id: `m${b + i}`,
        content: `memory ${b + i}`,
        metadata: {},
        embedding: new Float32Array(0),
        created_at: new Date(1_700_000_000_000 + b + i).toISOString(),
      }));
      const t = performance.now();
      await graph.writer.upsert(batch);
      times.push(performance.now() - t);
    }
    const secs = (performance.now() - started) / 1000;
    say(`neo4j: upsert ${total}: ${(total / secs).toFixed(0)} rows/s (per 1000-row batch ${fmt(times)})`);
    const t = performance.now();
    await graph.writer.upsert(Array.from({ length: BATCH }, (_, i) => ({ collection_id: collectionId, id: `m${i}`, content: "again", metadata: {}, embedding: new Float32Array(0), created_at: new Date().toISOString() })));
    say(`  re-upsert of 1000 existing: ${(performance.now() - t).toFixed(0)} ms`);
    const d = performance.now();
    await graph.writer.deleteCollection(collectionId);
    say(`  deleteCollection of ${total}: ${(performance.now() - d).toFixed(0)} ms`);
  } finally {
    await graph.close();
  }
}

await milvusBench();
await neo4jBench();
