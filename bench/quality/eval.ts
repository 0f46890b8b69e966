/**
 * One data set through the public API: its documents become the memories of a fresh
 * collection, then every query of the chosen split is searched in each mode and scored
 * against the human labels. Knows nothing of how the app was built (embedded, production).
 */
import type { QualityDataset, Split } from "./dataset";
import { meanScores, percentile, scoreRanking, type RankingScores } from "./metrics";

export const MODES = ["semantic", "keyword", "hybrid", "graph", "hybrid+rerank"] as const;
export type Mode = (typeof MODES)[number];

/** POST a JSON body with the eval's token; returns status and parsed body. */
export type ApiCall = (path: string, body: unknown) => Promise<{ status: number; body: any }>;

export interface ModeResult {
  mode: Mode;
  queries: number;
  scores: RankingScores;
  latencyMs: { p50: number; p95: number };
  /** Searches asked to rerank that came back unreranked (the answer says why). */
  rerankFallbacks: number;
  /** Per query, for tuning and paired comparisons: the ranked document ids. */
  rankings?: Record<string, string[]>;
}

export interface DatasetResult {
  dataset: string;
  split: Split;
  documents: number;
  ingestSeconds: number;
  modes: ModeResult[];
}

export interface EvalOptions {
  split: Split;
  modes: readonly Mode[];
  topK?: number;
  /** Keep every query's ranking in the result. */
  keepRankings?: boolean;
  progress?: (line: string) => void;
}

const BATCH = 250;

/** Creates a collection holding the data set's documents; returns it and the memory id → document id map. */
export async function ingest(call: ApiCall, set: QualityDataset, progress?: (line: string) => void): Promise<Ingested> {
  const created = await call("/v1/collections", { name: `quality-${set.name}-${crypto.randomUUID().slice(0, 8)}` });
  if (created.status !== 201) throw new Error(`create collection: ${created.status} ${JSON.stringify(created.body)}`);
  const collectionId = created.body.id as string;
  const docOf = new Map<string, string>();
  const started = performance.now();
  for (let i = 0; i < set.documents.length; i += BATCH) {
    const batch = set.documents.slice(i, i + BATCH);
    const reply = await call(`/v1/collections/${collectionId}/memories`, {
      memories: batch.map((d) => ({ content: d.text, metadata: { doc: d.id } })),
    });
    if (reply.status !== 201) throw new Error(`ingest: ${reply.status} ${JSON.stringify(reply.body)}`);
    (reply.body.ids as string[]).forEach((id, j) => docOf.set(id, batch[j]!.id));
    progress?.(`${set.name}: ingested ${Math.min(i + BATCH, set.documents.length)}/${set.documents.length}`);
  }
  return { collectionId, docOf, seconds: (performance.now() - started) / 1000 };
}

export interface Ingested {
  collectionId: string;
  docOf: Map<string, string>;
  seconds: number;
}

/** Searches every query in one mode against an ingested collection and scores the answers. */
export async function evaluateMode(
  call: ApiCall,
  set: QualityDataset,
  ingested: Ingested,
  mode: Mode,
  opts: EvalOptions,
): Promise<ModeResult> {
  const queries = set.queries.filter((q) => q.split === opts.split);
  const scores: RankingScores[] = [];
  const latencies: number[] = [];
  const rankings: Record<string, string[]> = {};
  let fallbacks = 0;
  for (const [i, q] of queries.entries()) {
    const rerank = mode === "hybrid+rerank";
    const started = performance.now();
    const reply = await call("/v1/search", {
      query: q.text.slice(0, 2000),
      collection_id: ingested.collectionId,
      search_type: rerank ? "hybrid" : mode,
      top_k: opts.topK ?? 10,
      rerank,
    });
    latencies.push(performance.now() - started);
    if (reply.status !== 200) throw new Error(`search (${mode}): ${reply.status} ${JSON.stringify(reply.body)}`);
    if (rerank && !reply.body.reranked) fallbacks++;
    const ranked = (reply.body.results as { id: string }[]).map((r) => ingested.docOf.get(r.id) ?? r.id);
    if (opts.keepRankings) rankings[q.id] = ranked;
    scores.push(scoreRanking(ranked, new Set(q.relevant)));
    if ((i + 1) % 50 === 0 || i + 1 === queries.length) {
      opts.progress?.(`${set.name} ${opts.split} ${mode}: ${i + 1}/${queries.length} queries`);
    }
  }
  return {
    mode,
    queries: queries.length,
    scores: meanScores(scores),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    rerankFallbacks: fallbacks,
    ...(opts.keepRankings ? { rankings } : {}),
  };
}

export async function evaluateDataset(call: ApiCall, set: QualityDataset, opts: EvalOptions): Promise<DatasetResult> {
  const ingested = await ingest(call, set, opts.progress);
  const modes: ModeResult[] = [];
  for (const mode of opts.modes) modes.push(await evaluateMode(call, set, ingested, mode, opts));
  return { dataset: set.name, split: opts.split, documents: set.documents.length, ingestSeconds: ingested.seconds, modes };
}
