/**
 * What the bot searches for one question: the configured collection, hybrid, reranked when the
 * token is premium. Hybrid scores (rank fusion) say nothing about relevance on their own, so a
 * semantic search of the same question runs beside it: when no memory reaches `minSimilarity`
 * (cosine), nothing relevant is stored; otherwise the hybrid hits that reach it are quoted, in
 * hybrid (or reranked) order, at most topK of them.
 */
import { MemoryApiError, type MemoryClient, type SearchHit } from "../typescript/memory-client";
import { isPremiumTier, tokenTier } from "./tier";

export interface RetrieveSettings {
  collectionId: string;
  topK: number;
  rerank: "auto" | "on" | "off";
  minSimilarity: number;
}

export interface Retrieved {
  hits: SearchHit[];
  reranked: boolean;
}

export class Retriever {
  private rerank: boolean;

  constructor(
    private readonly client: MemoryClient,
    private readonly settings: RetrieveSettings,
    token: string,
    private readonly onRerankRefused: () => void = () => {},
  ) {
    this.rerank = settings.rerank === "on" || (settings.rerank === "auto" && isPremiumTier(tokenTier(token)));
  }

  get reranking(): boolean {
    return this.rerank;
  }

  async retrieve(question: string): Promise<Retrieved> {
    const { collectionId, topK, minSimilarity } = this.settings;
    // both lists are wider than topK: the relevance filter must run before the cut to topK, or a
    // relevant memory that the reranker puts just below an irrelevant one would be lost
    const wide = Math.max(10, topK * 3);
    const [hybrid, semantic] = await Promise.all([
      this.hybrid(question, wide),
      this.client.search({ query: question, collection_id: collectionId, search_type: "semantic", top_k: wide }),
    ]);
    const similar = new Set(semantic.results.filter((r) => r.score >= minSimilarity).map((r) => r.id));
    if (similar.size === 0) return { hits: [], reranked: hybrid.reranked };
    const relevant = hybrid.results.filter((r) => similar.has(r.id));
    return { hits: (relevant.length > 0 ? relevant : hybrid.results.slice(0, 1)).slice(0, topK), reranked: hybrid.reranked };
  }

  private async hybrid(question: string, topK: number) {
    const request = { query: question, collection_id: this.settings.collectionId, search_type: "hybrid" as const, top_k: topK };
    if (!this.rerank) return this.client.search(request);
    try {
      return await this.client.search({ ...request, rerank: true });
    } catch (error) {
      // the token is not premium after all (a tier change): stop asking, answer unreranked
      if (!(error instanceof MemoryApiError && error.status === 403 && error.code === "premium_required")) throw error;
      this.rerank = false;
      this.onRerankRefused();
      return this.client.search(request);
    }
  }
}

/** A failed Memory API call → what the user reads, and whether Poe may retry. */
export function explainFailure(error: unknown, timeoutMs: number): { text: string; allowRetry: boolean } {
  if (!(error instanceof MemoryApiError)) {
    return { text: "Something went wrong while I searched your memories. Please try again.", allowRetry: true };
  }
  const wait = error.retryAfter !== undefined ? ` in about ${Math.ceil(error.retryAfter)} s` : " in a moment";
  switch (error.status) {
    case 0:
      return error.code === "timeout"
        ? { text: `The memory service did not answer within ${Math.round(timeoutMs / 1000)} s. Please try again${wait}.`, allowRetry: true }
        : { text: "I cannot reach the memory service right now. Please try again later.", allowRetry: true };
    case 401:
      return {
        text: "My access to your memories has expired or was revoked (the Memory API answered 401). The bot's owner needs to mint a new token (`bun run token -- --sub USER --days 30 --long`) and restart the bot.",
        allowRetry: false,
      };
    case 403:
      return { text: "The bot's token is not allowed to do this search (403). The bot's owner should check its configuration.", allowRetry: false };
    case 404:
      return { text: "The collection this bot answers from does not exist (anymore) for its token (404). The bot's owner should check POE_COLLECTION_ID.", allowRetry: false };
    case 429:
      return { text: `Too many questions at once: the memory service asks me to slow down (429). Please try again${wait}.`, allowRetry: true };
    case 503:
      return { text: `The memory service is temporarily unavailable (503). Please try again${wait}.`, allowRetry: true };
    default:
      return { text: `The memory service failed to answer (${error.status} ${error.code}). Please try again later.`, allowRetry: error.status >= 500 };
  }
}
