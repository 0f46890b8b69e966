/**
 * The write path of new memories, shared by POST …/memories and POST …/import: checks of one
 * memory beyond its schema (metadata bounds, expiry), then embed, extract the graph, upsert
 * (recorded in the change log by `by`) and bump the collection's generation.
 */
import type { Static } from "elysia";
import type { Memory, MemoryWrite, Metadata } from "../domain/memory";
import { InvalidInputError, StaleUpdateError } from "../domain/errors";
import { laterExpiry, mergeMetadata, roundSimilarity, type DedupeOutcome } from "../domain/dedupe";
import type { VectorIndex } from "../ports/vector-index";
import { judgeNearDuplicates, type DedupeSettings } from "./near-duplicates";
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
  /** Nearest neighbours of new memories (dedupe on POST …/memories). */
  vectors: VectorIndex;
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
  /** Nearest neighbours of a new memory (dedupe); absent: dedupe cannot be asked for. */
  vectors?: VectorIndex;
  bumpGeneration: (collectionId: string) => Promise<void>;
  extraction: ExtractionMode;
  /** Key of the server's embedding model (embedding-model.ts). */
  embeddingModel: string;
}

/** What a write did: the ids in the order given, and with dedupe, what became of each item. */
export interface WriteOutcome {
  ids: string[];
  /** Present when dedupe was asked for. */
  dedupe?: DedupeOutcome[];
  /** The items written as new memories or upserts (not the skipped or merged ones). */
  written: CheckedMemory[];
}

/** Recomputations of a merge while other writes to the matched memory race with it (then a 409). */
const MERGE_ATTEMPTS = 5;

/**
 * Writes `items` in one atomic upsert; answers their ids in the order given (new ones for items
 * without). With `dedupe` (src/domain/dedupe.ts), near-duplicates among the items without an id
 * are skipped or merged first; merges into stored memories are patches of their own.
 */
export function memoryWriter(deps: MemoryWriterDeps) {
  const upsert = async (collectionId: string, entries: { id: string; item: CheckedMemory; embedding?: Float32Array }[], by: string) => {
    // The batch is applied in order: an id given twice ends as its last version (in the
    // place of its first), as two requests one after the other would leave it.
    const latest = new Map<string, { item: CheckedMemory; embedding?: Float32Array }>();
    for (const { id, item, embedding } of entries) latest.set(id, { item, embedding });
    const unique = [...latest];
    const missing = unique.filter(([, entry]) => entry.embedding === undefined);
    const embedded = await deps.embedder.embed(missing.map(([, entry]) => entry.item.content), "document");
    missing.forEach(([, entry], i) => (entry.embedding = embedded[i]!));
    const graphs = await memoryGraphs(
      unique.map(([, { item }]) => ({ content: item.content, supplied: suppliedOf(item) })),
      deps.extraction,
    );
    const writes: MemoryWrite[] = unique.map(([id, { item, embedding }], i) => ({
      id,
      content: item.content,
      metadata: item.metadata ?? {},
      embedding: embedding!,
      embeddingModel: deps.embeddingModel,
      graph: graphs[i],
      expiresAt: item.expiresAt,
    }));
    // A collection deleted while this request embedded its memories is a CollectionNotFoundError: a 404.
    if (writes.length > 0) await deps.memories.upsert(collectionId, writes, { by });
  };

  /** The stored memory with `incoming` merged into it; null if it is gone meanwhile. */
  const mergeInto = async (collectionId: string, memory: Memory, incoming: { index: number; item: CheckedMemory }[], by: string) => {
    let current: Memory | null = memory;
    for (let attempt = 1; current; attempt++) {
      const merged = mergedState(current, incoming);
      try {
        return await deps.memories.patch(collectionId, current.id, { ...merged, ifUpdatedAt: current.updated_at }, { by });
      } catch (error) {
        if (!(error instanceof StaleUpdateError) || attempt >= MERGE_ATTEMPTS) throw error;
        current = await deps.memories.get(collectionId, current.id);
      }
    }
    return null;
  };

  return async (collectionId: string, items: CheckedMemory[], by: string, dedupe?: DedupeSettings): Promise<WriteOutcome> => {
    const ids = items.map((item) => item.id ?? Bun.randomUUIDv7());
    if (!dedupe) {
      await upsert(collectionId, items.map((item, i) => ({ id: ids[i]!, item })), by);
      await deps.bumpGeneration(collectionId);
      return { ids, written: items };
    }
    if (!deps.vectors) throw new Error("dedupe needs the vector index");
    const embeddings = await deps.embedder.embed(items.map((item) => item.content), "document");
    const verdicts = await judgeNearDuplicates(
      { vectors: deps.vectors, memories: deps.memories },
      collectionId,
      { ids: items.map((item) => item.id), contents: items.map((item) => item.content), embeddings },
      dedupe.threshold,
    );

    const pending = [...items];
    const outcomes: DedupeOutcome[] = [];
    const intoStored = new Map<string, { memory: Memory; incoming: { index: number; item: CheckedMemory }[] }>();
    verdicts.forEach((verdict, i) => {
      if (verdict.kind === "new") {
        outcomes.push({ index: i, action: "created" });
        return;
      }
      const matchedId = verdict.kind === "stored" ? verdict.memory.id : ids[verdict.index]!;
      ids[i] = matchedId;
      outcomes.push({ index: i, action: dedupe.mode === "skip" ? "skipped" : "merged", matched_id: matchedId, similarity: roundSimilarity(verdict.similarity) });
      if (dedupe.mode === "skip") return;
      if (verdict.kind === "batch") {
        const into = pending[verdict.index]!;
        const merged = mergedState({ id: matchedId, metadata: into.metadata ?? {}, expires_at: into.expiresAt }, [{ index: i, item: items[i]! }]);
        pending[verdict.index] = { ...into, metadata: merged.metadata, expiresAt: merged.expiresAt };
      } else {
        const group = intoStored.get(matchedId) ?? { memory: verdict.memory, incoming: [] };
        group.incoming.push({ index: i, item: items[i]! });
        intoStored.set(matchedId, group);
      }
    });
    // Checked before anything is written: a merge whose metadata outgrows the limits is a 422.
    for (const { memory, incoming } of intoStored.values()) mergedState(memory, incoming);

    for (const { memory, incoming } of intoStored.values()) {
      if (await mergeInto(collectionId, memory, incoming, by)) continue;
      // Gone (deleted, expired) between the lookup and the merge: each item is written as new.
      for (const { index } of incoming) {
        ids[index] = Bun.randomUUIDv7();
        outcomes[index] = { index, action: "created" };
        verdicts[index] = { kind: "new" };
      }
    }

    const written = verdicts.flatMap((verdict, i) => (verdict.kind === "new" ? [i] : []));
    await upsert(collectionId, written.map((i) => ({ id: ids[i]!, item: pending[i]!, embedding: embeddings[i] })), by);
    // Every item skipped: nothing changed, cached searches stay good.
    if (written.length > 0 || intoStored.size > 0) await deps.bumpGeneration(collectionId);
    return { ids, dedupe: outcomes, written: written.map((i) => pending[i]!) };
  };
}

/**
 * A merge's result: metadata existing ⊕ each incoming item's (in order, later keys win), expiry
 * the latest of all. The merged metadata is held to the limits of any metadata (a 422 naming
 * the last item merged).
 */
function mergedState(
  into: Pick<Memory, "id" | "metadata"> & { expires_at?: string | null },
  incoming: { index: number; item: CheckedMemory }[],
): { metadata: Metadata; expiresAt: string | null } {
  let metadata = into.metadata;
  let expiresAt = into.expires_at ?? null;
  for (const { item } of incoming) {
    metadata = mergeMetadata(metadata, item.metadata ?? {});
    expiresAt = laterExpiry(expiresAt, item.expiresAt);
  }
  const last = incoming[incoming.length - 1]!;
  try {
    checkMetadata(`memories[${last.index}].metadata`, metadata);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(error.field, `merged into memory ${into.id}: ${error.reason}`);
    throw error;
  }
  return { metadata, expiresAt };
}
