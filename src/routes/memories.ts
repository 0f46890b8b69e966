import { Elysia } from "elysia";
import type { CollectionStore, Embedder, Memory, MemoryStore, MemoryWrite } from "../stores/ports";
import { InvalidCursorError } from "../stores/ports";
import type { AuthPlugin } from "../auth/plugin";
import { invalidField, notFound, ProblemError } from "../http/problem";
import { checkMetadata } from "./metadata-limits";
import { AddMemoriesBody, LIMITS, ListMemoriesQuery, PatchMemoryBody } from "./schemas";

export interface MemoryRoutesDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  embedder: Embedder;
  bumpGeneration: (collectionId: string) => Promise<void>;
}

function parsePageSize(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const value = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= LIMITS.pageSize)) {
    throw invalidField("query.limit", `must be an integer from 1 to ${LIMITS.pageSize}`);
  }
  return value;
}

export const presentMemory = ({ id, content, metadata, created_at, updated_at }: Memory) => ({
  id,
  content,
  metadata,
  created_at,
  updated_at,
});

export function memoryRoutes(deps: MemoryRoutesDeps) {
  const ownedCollection = async (userId: string, collectionId: string) => {
    const collection = await deps.collections.get(userId, collectionId);
    if (!collection) throw notFound("collection");
    return collection;
  };

  return new Elysia({ prefix: "/v1/collections/:collection_id/memories", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, params, body, set }) => {
        const items = body.memories;
        const seen = new Set<string>();
        items.forEach((item, i) => {
          checkMetadata(`memories[${i}].metadata`, item.metadata);
          if (item.id === undefined) return;
          if (seen.has(item.id)) throw invalidField(`memories[${i}].id`, `duplicate id "${item.id}" in this batch`);
          seen.add(item.id);
        });
        await ownedCollection(principal.userId, params.collection_id);
        const embeddings = await deps.embedder.embed(
          items.map((m) => m.content),
          "document",
        );
        const writes: MemoryWrite[] = items.map((item, i) => ({
          id: item.id ?? Bun.randomUUIDv7(),
          content: item.content,
          metadata: item.metadata ?? {},
          embedding: embeddings[i]!,
        }));
        await deps.memories.upsert(params.collection_id, writes);
        await deps.bumpGeneration(params.collection_id);
        set.status = 201;
        return { ids: writes.map((w) => w.id) };
      },
      { body: AddMemoriesBody },
    )
    .get(
      "/",
      async ({ principal, params, query }) => {
        await ownedCollection(principal.userId, params.collection_id);
        try {
          const page = await deps.memories.list(params.collection_id, {
            limit: parsePageSize(query.limit),
            cursor: query.cursor,
          });
          return { memories: page.items.map(presentMemory), next_cursor: page.next_cursor };
        } catch (error) {
          if (error instanceof InvalidCursorError) throw invalidField("cursor", "is not a cursor this API returned");
          throw error;
        }
      },
      { query: ListMemoriesQuery },
    )
    .get("/:memory_id", async ({ principal, params }) => {
      await ownedCollection(principal.userId, params.collection_id);
      const memory = await deps.memories.get(params.collection_id, params.memory_id);
      if (!memory) throw notFound("memory");
      return presentMemory(memory);
    })
    .patch(
      "/:memory_id",
      async ({ principal, params, body }) => {
        if (body.content === undefined && body.metadata === undefined) {
          throw new ProblemError(422, "validation_failed", "body: give content and/or metadata to change", {
            field: "body",
          });
        }
        const metadata = body.metadata === undefined ? undefined : checkMetadata("metadata", body.metadata);
        await ownedCollection(principal.userId, params.collection_id);
        const embedding =
          body.content === undefined ? undefined : (await deps.embedder.embed([body.content], "document"))[0];
        const updated = await deps.memories.patch(params.collection_id, params.memory_id, {
          content: body.content,
          metadata,
          embedding,
        });
        if (!updated) throw notFound("memory");
        await deps.bumpGeneration(params.collection_id);
        return presentMemory(updated);
      },
      { body: PatchMemoryBody },
    )
    .delete("/:memory_id", async ({ principal, params, set }) => {
      await ownedCollection(principal.userId, params.collection_id);
      const deleted = await deps.memories.delete(params.collection_id, params.memory_id);
      if (!deleted) throw notFound("memory");
      await deps.bumpGeneration(params.collection_id);
      set.status = 204;
    });
}
