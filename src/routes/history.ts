import { Elysia, t } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import { NotFoundError } from "../domain/errors";
import { AUTHENTICATED, describeRoute, problems } from "../http/openapi";
import { parsePageSize } from "../http/query-params";
import type { CollectionStore } from "../ports/collection-store";
import type { MemoryHistoryStore } from "../ports/memory-history";
import type { MemoryStore } from "../ports/memory-store";
import { HistoryQuery } from "./schemas";

export interface HistoryRoutesDeps {
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  history: MemoryHistoryStore;
}

const MemoryStateSchema = t.Object({
  content: t.String(),
  metadata: t.Record(t.String(), t.Unknown()),
  expires_at: t.Union([t.String(), t.Null()]),
});

export const MemoryChangeSchema = t.Object({
  seq: t.Integer({ description: "position in the collection's change log: increases with every change, in commit order" }),
  op: t.Union(
    [t.Literal("create"), t.Literal("replace"), t.Literal("patch"), t.Literal("delete"), t.Literal("expire")],
    { description: "create, replace (an upsert over an existing memory), patch, delete, or expire (its expires_at passed)" },
  ),
  at: t.String({ description: "when the change was committed (ISO-8601)" }),
  by: t.Union([t.String(), t.Null()], { description: "the sub of whoever made it (an API key's owner); null for expire" }),
  old: t.Union([MemoryStateSchema, t.Null()], { description: "the memory before; null for create" }),
  new: t.Union([MemoryStateSchema, t.Null()], { description: "the memory after; null for delete and expire" }),
});

export const MemoryHistorySchema = t.Object({
  memory_id: t.String(),
  history: t.Array(MemoryChangeSchema, { description: "oldest first" }),
  next_cursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next (newer) page; null at the end" }),
});

/** GET …/memories/:memory_id/history: a memory's changes, oldest first, kept after it is deleted. */
export function historyRoutes(deps: HistoryRoutesDeps) {
  return new Elysia({ name: "history-routes", prefix: "/v1/collections/:collection_id/memories", normalize: false })
    .use(deps.auth)
    .get(
      "/:memory_id/history",
      async ({ principal, params, query }) => {
        const collection = await deps.collections.get(principal.userId, params.collection_id);
        if (!collection) throw new NotFoundError("collection");
        const page = await deps.history.history(params.collection_id, params.memory_id, {
          limit: parsePageSize(query.limit),
          cursor: query.cursor,
        });
        // A memory with no recorded change is known only if it exists (its history was pruned).
        if (page.items.length === 0 && query.cursor === undefined) {
          if ((await deps.memories.get(params.collection_id, params.memory_id)) === null) throw new NotFoundError("memory");
        }
        return {
          memory_id: params.memory_id,
          history: page.items.map(({ memory_id: _id, ...change }) => change),
          next_cursor: page.next_cursor,
        };
      },
      {
        query: HistoryQuery,
        response: { 200: MemoryHistorySchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute(
          "memories",
          "A memory's history: every change, oldest first, a page at a time",
          "Each entry has the memory before (`old`) and after (`new`) the change, when and by whom. Kept after the memory is deleted or expires, for HISTORY_RETENTION_DAYS (default 30); deleting the collection deletes it.",
        ),
      },
    );
}
