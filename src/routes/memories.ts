import { parsePageSize } from "../http/query-params";
import { parseFilterParam } from "../search/filters/query-param";
import { Elysia, t, type Static } from "elysia";
import type { MemoryGraph } from "../domain/graph";
import type { Memory } from "../domain/memory";
import type { CollectionStore } from "../ports/collection-store";
import type { Embedder } from "../ports/embedder";
import type { MemoryStore } from "../ports/memory-store";
import { NotFoundError, StaleUpdateError } from "../domain/errors";
import { MATCH_ALL } from "../domain/search";
import { assertCanEmbedInto, modelKeyOf } from "../domain/embedding-model";
import type { AuthPlugin } from "../auth/plugin";
import { ProblemError } from "../http/problem";
import { LIMITS } from "../domain/limits";
import { DEFAULT_DEDUPE_THRESHOLD } from "../domain/dedupe";
import { checkMetadata } from "./metadata-limits";
import { memoryGraph, presentSupplied, suppliedOf } from "../graph/memory-graph";
import { checkNewMemory, memoryWriter, type MemoryWriteRouteDeps } from "./memory-writes";
import type { ExtractionMode } from "../graph/extract";
import { resolveExpiry } from "./expiry";
import { AUTHENTICATED, WITH_BODY, describeRoute, problems } from "../http/openapi";
import { CostPolicy } from "../http/cost";
import { IDEMPOTENCY_KEY, IdempotencyHeaders, idempotent, type IdempotencyPolicy } from "../http/idempotency";
import {
  AddedMemoriesSchema,
  AddMemoriesBody,
  ListMemoriesQuery,
  MemoryPageSchema,
  MemorySchema,
  PatchMemoryBody,
} from "./schemas";

export interface MemoryRoutesDeps extends MemoryWriteRouteDeps {
  /** `Idempotency-Key` on POST; absent: the header is accepted and ignored. */
  idempotency?: IdempotencyPolicy;
}

/** Recomputations of a PATCH's graph while other writes to the memory race with it (then a 409). */
const PATCH_ATTEMPTS = 5;

export const presentMemory = (memory: Memory) => ({
  id: memory.id,
  content: memory.content,
  metadata: memory.metadata,
  created_at: memory.created_at,
  updated_at: memory.updated_at,
  expires_at: memory.expires_at ?? null,
  ...presentSupplied(memory),
});

export function memoryRoutes(deps: MemoryRoutesDeps) {
  const extraction = deps.graphExtraction ?? "auto";
  const cost = deps.cost ?? new CostPolicy();
  const now = deps.now ?? Date.now;
  // Vectors of another model than the collection's are never mixed in (embedding-model.ts).
  const embeddingModel = modelKeyOf(deps.embedder);
  const ownedCollection = async (userId: string, collectionId: string) => {
    const collection = await deps.collections.get(userId, collectionId);
    if (!collection) throw new NotFoundError("collection");
    return collection;
  };

  const addMemories = memoryWriter({
    memories: deps.memories,
    embedder: deps.embedder,
    vectors: deps.vectors,
    bumpGeneration: deps.bumpGeneration,
    extraction,
    embeddingModel,
  });

  const patchMemory = async (
    collectionId: string,
    memoryId: string,
    body: Static<typeof PatchMemoryBody>,
    metadata: ReturnType<typeof checkMetadata> | undefined,
    expiresAt: string | null | undefined,
    by: string,
  ) => {
    const graphChange = body.content !== undefined || body.entities !== undefined || body.relations !== undefined;
    const embedding = body.content === undefined ? undefined : (await deps.embedder.embed([body.content], "document"))[0];
    // The graph is recomputed from the memory's new state: its content, and what the client
    // supplies now or supplied before. It is written only over the state it was computed
    // from (ifUpdatedAt); a concurrent write in between makes it recompute, so two PATCHes
    // never lose each other's graph changes.
    let updated: Memory | null = null;
    for (let attempt = 1; ; attempt++) {
      let graph: MemoryGraph | undefined;
      let ifUpdatedAt: string | undefined;
      if (graphChange) {
        const current = await deps.memories.get(collectionId, memoryId);
        if (!current) throw new NotFoundError("memory");
        const before = current.graph?.supplied ?? {};
        const supplied = suppliedOf({ entities: body.entities ?? before.entities, relations: body.relations ?? before.relations });
        graph = memoryGraph(body.content ?? current.content, supplied, extraction) ?? { entities: [], relations: [] };
        ifUpdatedAt = current.updated_at;
      }
      try {
        updated = await deps.memories.patch(collectionId, memoryId, {
          content: body.content,
          metadata,
          embedding,
          embeddingModel: embedding === undefined ? undefined : embeddingModel,
          graph,
          ifUpdatedAt,
          expiresAt,
        }, { by });
        break;
      } catch (error) {
        if (!(error instanceof StaleUpdateError) || attempt >= PATCH_ATTEMPTS) throw error;
      }
    }
    if (!updated) throw new NotFoundError("memory");
    await deps.bumpGeneration(collectionId);
    return presentMemory(updated);
  };

  return new Elysia({ name: "memory-routes", prefix: "/v1/collections/:collection_id/memories", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, params, body, set, headers }) => {
        const at = now();
        const checked = body.memories.map((item, i) => checkNewMemory(item, at, `memories[${i}]`));
        const collection = await ownedCollection(principal.userId, params.collection_id);
        assertCanEmbedInto(collection, embeddingModel);
        const fingerprint = { route: "POST /v1/collections/:collection_id/memories", collection_id: params.collection_id, body };
        const stillHolds = async (answer: { ids: string[] }) =>
          (await deps.memories.matchingIds(params.collection_id, answer.ids, MATCH_ALL)).length === new Set(answer.ids).size;
        const key = headers[IDEMPOTENCY_KEY];
        // A replayed answer is neither charged nor counted again.
        return idempotent(deps.idempotency, { userId: principal.userId, key, fingerprint, set, stillHolds }, async () => {
          const price = cost.price(body.memories);
          await cost.checkQuota(principal, { memories: body.memories.length, bytes: price.bytes });
          const release = cost.admitWrite(principal, body.memories.length);
          try {
            await cost.charge(principal, price.units, "memories");
            const dedupe = body.dedupe === undefined || body.dedupe === "off"
              ? undefined
              : { mode: body.dedupe, threshold: body.dedupe_threshold ?? collection.dedupe_threshold ?? DEFAULT_DEDUPE_THRESHOLD };
            const outcome = await addMemories(params.collection_id, checked, principal.userId, dedupe);
            // Only what was written counts toward the quotas (skipped and merged items add nothing).
            const written = outcome.written.length === checked.length ? price : cost.price(outcome.written);
            cost.recordUsage(principal, { memories: outcome.written.length, bytes: written.bytes });
            set.status = 201;
            return outcome.dedupe ? { ids: outcome.ids, dedupe: outcome.dedupe } : { ids: outcome.ids };
          } finally {
            release();
          }
        });
      },
      {
        body: AddMemoriesBody,
        headers: IdempotencyHeaders,
        // 409: a duplicate with the same Idempotency-Key while the first still runs, or a collection
        // embedded by another model than the server's (embedding_model_mismatch)
        response: { 201: AddedMemoriesSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 403, 404, 409) },
        detail: describeRoute(
          "memories",
          "Add or upsert memories (1..1000)",
          "Durable before acknowledged. A given `id` replaces that memory, keeping its created_at; an id given twice in one batch ends as its last version; its expiry too is replaced: none unless given. `expires_at` or `ttl_seconds` make a memory vanish at that time. `dedupe` skip or merge: a memory without an id whose cosine similarity to a stored memory (or an earlier one of the batch) reaches the threshold (`dedupe_threshold`, else the collection's, else 0.95) is not written; merge folds its metadata (new keys win) and later expiry into the match; the answer's `dedupe` says what became of each. A memory costs one rate-limit unit plus one per COST_BYTES_PER_UNIT bytes; quotas per tier apply (403 `quota_exceeded`).",
        ),
      },
    )
    .get(
      "/",
      async ({ principal, params, query }) => {
        await ownedCollection(principal.userId, params.collection_id);
        const limit = parsePageSize(query.limit);
        const filter = parseFilterParam(query.filter);
        const page = await deps.memories.list(params.collection_id, { limit, cursor: query.cursor, filter });
        return { memories: page.items.map(presentMemory), next_cursor: page.next_cursor };
      },
      {
        query: ListMemoriesQuery,
        response: { 200: MemoryPageSchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute(
          "memories",
          "List memories, in insertion order, a page at a time",
          "`filter` (URL-encoded JSON) keeps only the memories it matches: the filter language of POST /v1/search (metadata operators, created_at / updated_at, $and / $or / $not).",
        ),
      },
    )
    .get(
      "/:memory_id",
      async ({ principal, params }) => {
        await ownedCollection(principal.userId, params.collection_id);
        const memory = await deps.memories.get(params.collection_id, params.memory_id);
        if (!memory) throw new NotFoundError("memory");
        return presentMemory(memory);
      },
      {
        response: { 200: MemorySchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("memories", "Get one memory"),
      },
    )
    .patch(
      "/:memory_id",
      async ({ principal, params, body }) => {
        const graphChange = body.content !== undefined || body.entities !== undefined || body.relations !== undefined;
        const expiryChange = body.expires_at !== undefined || body.ttl_seconds !== undefined;
        if (!graphChange && body.metadata === undefined && !expiryChange) {
          throw new ProblemError(
            422,
            "validation_failed",
            "body: give content, metadata, entities, relations and/or expires_at (or ttl_seconds) to change",
            { field: "body" },
          );
        }
        const expiresAt = resolveExpiry(body, now(), "");
        const metadata = body.metadata === undefined ? undefined : checkMetadata("metadata", body.metadata);
        const collection = await ownedCollection(principal.userId, params.collection_id);
        // Only a new content is embedded: metadata and graph changes leave the vector alone.
        if (body.content !== undefined) assertCanEmbedInto(collection, embeddingModel);
        const release = cost.admitWrite(principal, 1);
        try {
          await cost.charge(principal, cost.price([{ content: body.content ?? "", metadata: body.metadata }]).units, "body");
          return await patchMemory(params.collection_id, params.memory_id, body, metadata, expiresAt, principal.userId);
        } finally {
          release();
        }
      },
      {
        body: PatchMemoryBody,
        // 409: concurrent writes to the memory kept racing with this one, or embedding_model_mismatch
        response: { 200: MemorySchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute(
          "memories",
          "Change a memory's content, metadata (replaced whole) and/or expiry",
          "`expires_at` or `ttl_seconds` set a new expiry; `null` (either) clears it.",
        ),
      },
    )
    .delete(
      "/:memory_id",
      async ({ principal, params, set }) => {
        await ownedCollection(principal.userId, params.collection_id);
        const deleted = await deps.memories.delete(params.collection_id, params.memory_id, { by: principal.userId });
        if (!deleted) throw new NotFoundError("memory");
        cost.forgetUsage(principal);
        await deps.bumpGeneration(params.collection_id);
        set.status = 204;
      },
      {
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("memories", "Delete a memory"),
      },
    );
}
