/**
 * A `Reranker` from an embedding model: the cosine of the query's and each candidate's vectors
 * under a (larger) bi-encoder than the one that retrieved them. Candidates' vectors are kept in
 * an LRU by text, so a memory that keeps being a candidate is embedded once per worker; a
 * search then costs one query embedding plus its new candidates.
 */
import { LRUCache } from "lru-cache";
import type { Embedder } from "../ports/embedder";
import type { Reranker } from "../ports/reranker";
import { QueueFullError } from "../domain/errors";
import { embedderStats } from "./embedder";
import type { RerankerStats } from "./reranker";

export interface BiEncoderRerankerOptions {
  /** Candidate vectors kept (by text); default 10,000 (15 MB at 384 dimensions). */
  cachedDocuments?: number;
  /**
   * Longest a search waits for its scores (RERANK_MAX_WAIT_MS); past it `score` rejects with
   * QueueFullError, so the search answers unreranked (reranker_busy) instead of waiting for a
   * background thread that a busy CPU does not run. The embedding still completes and its
   * vectors are kept. Default: no bound.
   */
  maxWaitMs?: number;
}

/**
 * What /metrics reads, in the cross-encoder's terms (its RerankerStats less the foreground
 * count): a "pair" is a candidate scored, a "batch" a search's rescoring, the queue the
 * embedder's texts waiting; msPerPair is the recent cost of a candidate it had to embed.
 */
export type BiEncoderStats = Omit<RerankerStats, "foregroundNoted">;

export type BiEncoderReranker = Reranker & { stats(): BiEncoderStats };

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function biEncoderReranker(embedder: Embedder, opts: BiEncoderRerankerOptions = {}): BiEncoderReranker {
  const vectors = new LRUCache<string, Float32Array>({ max: opts.cachedDocuments ?? 10_000 });
  const counts = { lastBatchPairs: 0, lastInferenceMs: 0, batches: 0, pairsScored: 0, rejected: 0, timedOut: 0, msPerPair: 0 };
  const score = async (query: string, documents: string[]): Promise<number[]> => {
    const started = performance.now();
    const known = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const document of new Set(documents)) {
      const vector = vectors.get(document);
      if (vector) known.set(document, vector);
      else missing.push(document);
    }
    const [[queryVector], fresh] = await Promise.all([
      embedder.embed([query], "query"),
      missing.length > 0 ? embedder.embed(missing, "document") : Promise.resolve([]),
    ]).catch((error: unknown) => {
      if (error instanceof QueueFullError) counts.rejected++;
      throw error;
    });
    missing.forEach((document, i) => {
      known.set(document, fresh[i]!);
      vectors.set(document, fresh[i]!);
    });
    const ms = performance.now() - started;
    counts.lastBatchPairs = documents.length;
    counts.lastInferenceMs = ms;
    counts.batches++;
    counts.pairsScored += documents.length;
    if (missing.length > 0) {
      const perText = ms / (missing.length + 1);
      counts.msPerPair = counts.msPerPair === 0 ? perText : 0.8 * counts.msPerPair + 0.2 * perText;
    }
    return documents.map((document) => dot(queryVector!, known.get(document)!));
  };
  const { maxWaitMs } = opts;
  return {
    model: `bi-encoder ${embedder.model}`,
    score:
      maxWaitMs === undefined
        ? score
        : (query, documents) => {
            let timer: ReturnType<typeof setTimeout> | undefined;
            const late = new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                counts.timedOut++;
                reject(new QueueFullError("reranker"));
              }, maxWaitMs);
            });
            const scored = score(query, documents);
            scored.catch(() => {}); // a search that gave up does not hear of it
            return Promise.race([scored, late]).finally(() => clearTimeout(timer));
          },
    stats() {
      const queue = embedderStats(embedder);
      return { ...counts, queueDepth: queue?.queueDepth ?? 0, queuedPairs: queue?.queueDepth ?? 0, inFlightPairs: queue?.inFlight ?? 0, shed: 0 };
    },
    close: () => embedder.close(),
  };
}
