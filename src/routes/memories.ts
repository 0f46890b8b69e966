import { parsePageSize } from "../http/query-params";
import { Elysia, t } from "elysia";
import type { MemoryGraph } from "../domain/graph";
import type { Memory, MemoryWrite } from "../domain/memory";
import type { CollectionStore } from "../ports/collection-store";
import type { Embedder } from "../ports/embedder";
import type { MemoryStore } from "../ports/memory-store";
import { NotFoundError } from "../domain/errors";
import { assertCanEmbedInto, modelKeyOf } from "../domain/embedding-model";
import type { AuthPlugin } from "../auth/plugin";
import { ProblemError } from "../http/problem";
import { LIMITS } from "../domain/limits";
import { checkMetadata } from "./metadata-limits";
import { memoryGraph, presentSupplied, suppliedOf } from "../graph/memory-graph";
import type { ExtractionMode } from "../graph/extract";
import { AUTHENTICATED, WITH_BODY, describeRoute, problems } from "../http/openapi";
import {
  AddedMemoriesSchema,
  AddMemoriesBody,
  ListMemoriesQuery,
  MemoryPageSchema,
  MemorySchema,
  PatchMemoryBody,
} from "./schemas";

export interface MemoryRoutesDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  embedder: Embedder;
  bumpGeneration: (collectionId: string) => Promise<void>;
  /** Entity extraction from memory text at write time (client-supplied entities are always kept). */
  graphExtraction?: ExtractionMode;
}

export const presentMemory = (memory: Memory) => ({
  id: memory.id,
  content: memory.content,
  metadata: memory.metadata,
  created_at: memory.created_at,
  updated_at: memory.updated_at,
  ...presentSupplied(memory),
});

export function memoryRoutes(deps: MemoryRoutesDeps) {
  const extraction = deps.graphExtraction ?? "auto";
  // Vectors of another model than the collection's are never mixed in (embedding-model.ts).
  const embeddingModel = modelKeyOf(deps.embedder);
  const ownedCollection = async (userId: string, collectionId: string) => {
    const collection = await deps.collections.get(userId, collectionId);
    if (!collection) throw new NotFoundError("collection");
    return collection;
  };

  return new Elysia({ name: "memory-routes", prefix: "/v1/collections/:collection_id/memories", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, params, body, set }) => {
        body.memories.forEach((item, i) => checkMetadata(`memories[${i}].metadata`, item.metadata));
        assertCanEmbedInto(await ownedCollection(principal.userId, params.collection_id), embeddingModel);
        const ids = body.memories.map((item) => item.id ?? Bun.randomUUIDv7());
        // The batch is applied in order: an id given twice ends as its last version (in the
        // place of its first), as two requests one after the other would leave it.
        const latest = new Map<string, (typeof body.memories)[number]>();
        body.memories.forEach((item, i) => latest.set(ids[i]!, item));
        const unique = [...latest];
        const embeddings = await deps.embedder.embed(
          unique.map(([, item]) => item.content),
          "document",
        );
        const writes: MemoryWrite[] = unique.map(([id, item], i) => ({
          id,
          content: item.content,
          metadata: item.metadata ?? {},
          embedding: embeddings[i]!,
          embeddingModel,
          graph: memoryGraph(item.content, suppliedOf(item), extraction),
        }));
        // A collection deleted while this request embedded its memories is a CollectionNotFoundError: a 404.
        await deps.memories.upsert(params.collection_id, writes);
        await deps.bumpGeneration(params.collection_id);
        set.status = 201;
        return { ids };
      },
      {
        body: AddMemoriesBody,
        response: { 201: AddedMemoriesSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute(
          "memories",
          "Add or upsert memories (1..1000)",
          "Durable before acknowledged. A given `id` replaces that memory, keeping its created_at; an id given twice in one batch ends as its last version.",
        ),
      },
    )
    .get(
      "/",
      async ({ principal, params, query }) => {
        await ownedCollection(principal.userId, params.collection_id);
        const page = await deps.memories.list(params.collection_id, {
          limit: parsePageSize(query.limit),
          cursor: query.cursor,
        });
        return { memories: page.items.map(presentMemory), next_cursor: page.next_cursor };
      },
      {
        query: ListMemoriesQuery,
        response: { 200: MemoryPageSchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute("memories", "List memories, in insertion order, a page at a time"),
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
        if (!graphChange && body.metadata === undefined) {
          throw new ProblemError(422, "validation_failed", "body: give content, metadata, entities and/or relations to change", {
            field: "body",
          });
        }
        const metadata = body.metadata === undefined ? undefined : checkMetadata("metadata", body.metadata);
        const collection = await ownedCollection(principal.userId, params.collection_id);
        // Only a new content is embedded: metadata and graph changes leave the vector alone.
        if (body.content !== undefined) assertCanEmbedInto(collection, embeddingModel);
        // The graph is recomputed from the memory's new state: its content, and what the client
        // supplies now or supplied before.
        let graph: MemoryGraph | undefined;
        if (graphChange) {
          const current = await deps.memories.get(params.collection_id, params.memory_id);
          if (!current) throw new NotFoundError("memory");
          const before = current.graph?.supplied ?? {};
          const supplied = suppliedOf({ entities: body.entities ?? before.entities, relations: body.relations ?? before.relations });
          graph = memoryGraph(body.content ?? current.content, supplied, extraction) ?? { entities: [], relations: [] };
        }
        const embedding =
          body.content === undefined ? undefined : (await deps.embedder.embed([body.content], "document"))[0];
        const updated = await deps.memories.patch(params.collection_id, params.memory_id, {
          content: body.content,
          metadata,
          embedding,
          embeddingModel: embedding === undefined ? undefined : embeddingModel,
          graph,
        });
        if (!updated) throw new NotFoundError("memory");
        await deps.bumpGeneration(params.collection_id);
        return presentMemory(updated);
      },
      {
        body: PatchMemoryBody,
        response: { 200: MemorySchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute("memories", "Change a memory's content and/or metadata (metadata is replaced whole)"),
      },
    )
    .delete(
      "/:memory_id",
      async ({ principal, params, set }) => {
        await ownedCollection(principal.userId, params.collection_id);
        const deleted = await deps.memories.delete(params.collection_id, params.memory_id);
        if (!deleted) throw new NotFoundError("memory");
        await deps.bumpGeneration(params.collection_id);
        set.status = 204;
      },
      {
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("memories", "Delete a memory"),
      },
    );
}
