/**
 * `bun run bench/experiments/rerank-latency.ts [--memories 2000] [--queries 100] [--pools 50,20,10]`:
 * how long a premium (reranked) search takes at 2 connections for each rerank pool size
 * (`RERANK_CANDIDATES`), in process (`app.handle`, embedded stores, no HTTP), with the reranker
 * wired as the server wires it (src/runtime/reranker.ts: its scheduling, queue and interpolation
 * from the environment's configuration). Memories and queries are the bench's generated ones
 * (short notes), as in the `rerank-low` scenario; unique queries, so nothing is cached.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config";
import { generateMemories, generateQueries } from "../generate";
import { openPremiumApp } from "./premium-app";

const { values: args } = parseArgs({
  options: {
    memories: { type: "string", default: "2000" },
    queries: { type: "string", default: "100" },
    pools: { type: "string", default: "50,20,10" },
  },
});
const app = await openPremiumApp(loadConfig(process.env));
const { id: collectionId } = await app.call("/v1/collections", { name: "rerank-latency" });
const memories = [...generateMemories(Number(args.memories))].map(({ content, metadata }) => ({ content, metadata }));
for (let i = 0; i < memories.length; i += 250) {
  await app.call(`/v1/collections/${collectionId}/memories`, { memories: memories.slice(i, i + 250) });
  process.stderr.write(`\ringested ${Math.min(i + 250, memories.length)}/${memories.length}`);
}
process.stderr.write("\n");

const pools = args.pools!.split(",").map(Number);
const perPool = Number(args.queries);
const queries = generateQueries(perPool * pools.length + 10);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
console.log(`| rerank pool | queries | reranked | p50 ms | p95 ms | p99 ms |\n| ---: | ---: | ---: | ---: | ---: | ---: |`);
let next = 0;
for (const pool of pools) {
  await app.call("/v1/search", { query: queries[next++], collection_id: collectionId, top_k: 10, rerank: true }, { rerankCandidates: pool }); // warm-up
  const mine = queries.slice(next, next + perPool);
  next += perPool;
  const latencies: number[] = [];
  let reranked = 0;
  const client = async () => {
    for (let q = mine.shift(); q !== undefined; q = mine.shift()) {
      const started = performance.now();
      const answer = await app.call("/v1/search", { query: q, collection_id: collectionId, search_type: "semantic", top_k: 10, rerank: true }, { rerankCandidates: pool });
      latencies.push(performance.now() - started);
      if (answer.reranked) reranked++;
    }
  };
  await Promise.all([client(), client()]);
  latencies.sort((a, b) => a - b);
  console.log(`| ${pool} | ${latencies.length} | ${reranked} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 95).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} |`);
}
await app.close();
