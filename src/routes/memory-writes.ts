/**
 * The write path of new memories, shared by POST …/memories and POST …/import: checks of one
 * memory beyond its schema (metadata bounds, expiry), then embed, extract the graph, upsert
 * (recorded in the change log by `by`) and bump the collection's generation.
 */
import type { Static } from "elysia";
import type { MemoryWrite } from "../domain/memory";
import type { Embedder } from "../ports/embedder";
import type { MemoryStore } from "../ports/memory-store";
import { memoryGraphs } from "../graph/batch-graphs";
import { suppliedOf } from "../graph/memory-graph";
import type { ExtractionMode } from "../graph/extract";
import { checkMetadata } from "./metadata-limits";
import { resolveExpiry } from "./expiry";
import type { NewMemory } from "./schemas";
import type { AuthPlugin } from "../auth/plugin";
import type { CollectionStore } from "../ports/collection-store";
import type { CostPolicy } from "../http/cost";

export type NewMemoryInput = Static<typeof NewMemory>;

/** A memory as written: the expiry resolved against the clock (null: never). */
export type CheckedMemory = Omit<NewMemoryInput, "expires_at" | "ttl_seconds"> & { expiresAt: string | null };

/** What the schema cannot say: metadata size and depth, expiry in the future; `field` names the memory (`memories[3]`). */
export function checkNewMemory(item: Omit<NewMemoryInput, "expires_at"> & { expires_at?: string | null }, now: number, field: string): CheckedMemory {
  checkMetadata(field === "" ? "metadata" : `${field}.metadata`, item.metadata);
  const expiresAt = resolveExpiry(item, now, field) ?? null;
  const { expires_at: _at, ttl_seconds: _ttl, ...rest } = item;
  return { ...rest, expiresAt };
}

/** What a route that writes new memories needs (POST …/memories and POST …/import). */
export interface MemoryWriteRouteDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  embedder: Embedder;
  bumpGeneration: (collectionId: string) => Promise<void>;
  /** Entity extraction from memory text at write time (client-supplied entities are always kept). */
  graphExtraction?: ExtractionMode;
  /** Cost-weighted rate limits, write concurrency and quotas; default: none. */
  cost?: CostPolicy;
  /** Milliseconds clock `ttl_seconds` and `expires_at` are judged by; default Date.now. */
  now?: () => number;
}

export interface MemoryWriterDeps {
  memories: MemoryStore;
  embedder: Embedder;
  bumpGeneration: (collectionId: string) => Promise<void>;
  extraction: ExtractionMode;
  /** Key of the server's embedding model (embedding-model.ts). */
  embeddingModel: string;
}

/** Writes `items` in one atomic upsert; answers their ids in the order given (new ones for items without). */
export function memoryWriter(deps: MemoryWriterDeps) {
  return async (collectionId: string, items: CheckedMemory[], by: string): Promise<string[]> => {
    const ids = items.map((item) => item.id ?? Bun.randomUUIDv7());
    // The batch is applied in order: an id given twice ends as its last version (in the
    // place of its first), as two requests one after the other would leave it.
    const latest = new Map<string, CheckedMemory>();
    items.forEach((item, i) => latest.set(ids[i]!, item));
    const unique = [...latest];
    const embeddings = await deps.embedder.embed(
      unique.map(([, item]) => item.content),
      "document",
    );
    const graphs = await memoryGraphs(
      unique.map(([, item]) => ({ content: item.content, supplied: suppliedOf(item) })),
      deps.extraction,
    );
    const writes: MemoryWrite[] = unique.map(([id, item], i) => ({
      id,
      content: item.content,
      metadata: item.metadata ?? {},
      embedding: embeddings[i]!,
      embeddingModel: deps.embeddingModel,
      graph: graphs[i],
      expiresAt: item.expiresAt,
    }));
    // A collection deleted while this request embedded its memories is a CollectionNotFoundError: a 404.
    await deps.memories.upsert(collectionId, writes, { by });
    await deps.bumpGeneration(collectionId);
    return ids;
  };
}
