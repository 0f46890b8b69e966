import { parsePageSize } from "../http/query-params";
import { Elysia } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import { AUTHENTICATED, describeRoute, problems } from "../http/openapi";
import { EntityDetailSchema, EntityPageSchema, ListEntitiesQuery } from "../graph/schemas";
import { normaliseName } from "../graph/normalise";
import { NotFoundError } from "../domain/errors";
import type { CollectionStore } from "../ports/collection-store";
import type { GraphStore } from "../ports/graph-store";
import type { MemoryStore } from "../ports/memory-store";

export interface GraphRoutesDeps {
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  /** Absent: the routes answer 404 (this server keeps no graph). */
  graph?: GraphStore;
}

/** Neighbours and mentioning memories shown on an entity's page. */
const DETAIL_LIMIT = 50;

/** The knowledge graph of a collection: its entities, and one entity's neighbours and memories. */
export function graphRoutes(deps: GraphRoutesDeps) {
  const owned = async (userId: string, collectionId: string): Promise<GraphStore> => {
    const collection = await deps.collections.get(userId, collectionId);
    if (!collection) throw new NotFoundError("collection");
    if (!deps.graph) throw new NotFoundError("graph", "this server keeps no knowledge graph");
    return deps.graph;
  };

  return new Elysia({ name: "graph-routes", prefix: "/v1/collections/:collection_id/entities", normalize: false })
    .use(deps.auth)
    .get(
      "/",
      async ({ principal, params, query }) => {
        const limit = parsePageSize(query.limit);
        const graph = await owned(principal.userId, params.collection_id);
        const q = query.q === undefined ? undefined : normaliseName(query.q);
        const page = await graph.listEntities(params.collection_id, {
          limit,
          ...(q ? { q } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        });
        return { entities: page.items, next_cursor: page.next_cursor };
      },
      {
        query: ListEntitiesQuery,
        response: { 200: EntityPageSchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute("graph", "List a collection's entities", "`q` keeps names containing it (case-insensitive)."),
      },
    )
    .get(
      "/:name",
      async ({ principal, params }) => {
        const graph = await owned(principal.userId, params.collection_id);
        const name = normaliseName(params.name);
        const [entity] = name === "" ? [] : await graph.findEntities(params.collection_id, [name]);
        if (!entity) throw new NotFoundError("entity");
        const [neighbours, mentions] = await Promise.all([
          graph.neighbours(params.collection_id, name, DETAIL_LIMIT),
          graph.mentions(params.collection_id, [name], DETAIL_LIMIT),
        ]);
        const memories = await deps.memories.hydrate(
          params.collection_id,
          mentions.map((m) => m.memory_id),
        );
        return {
          entity,
          neighbours,
          memories: memories.map(({ id, content, metadata, created_at }) => ({ id, content, metadata, created_at })),
        };
      },
      {
        response: { 200: EntityDetailSchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("graph", "An entity: its neighbours (with relations) and the memories that mention it"),
      },
    );
}
