import { Elysia, t } from "elysia";
import type { Collection } from "../domain/collection";
import type { CollectionStore } from "../ports/collection-store";
import { NotFoundError } from "../domain/errors";
import type { AuthPlugin } from "../auth/plugin";
import { collectionAllowed } from "../auth/key-access";
import { problems, AUTHENTICATED, WITH_BODY, describeRoute } from "../http/openapi";
import { CollectionListSchema, CollectionSchema, CreateCollectionBody } from "./schemas";

export interface CollectionRoutesDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  bumpGeneration: (collectionId: string) => Promise<void>;
  /** Key of the server's embedding model, recorded on each new collection (embedding-model.ts). */
  embeddingModel?: string;
}

export const presentCollection = ({ id, name, description, created_at }: Collection) => ({
  id,
  name,
  description,
  created_at,
});

export function collectionRoutes(deps: CollectionRoutesDeps) {
  return new Elysia({ name: "collection-routes", prefix: "/v1/collections", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, body, set }) => {
        // A name the owner already uses is a DuplicateNameError: a 409.
        const collection = await deps.collections.create(principal.userId, {
          name: body.name.trim(),
          description: body.description ?? null,
          embedding_model: deps.embeddingModel,
        });
        set.status = 201;
        return presentCollection(collection);
      },
      {
        body: CreateCollectionBody,
        response: { 201: CollectionSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 409) },
        detail: describeRoute("collections", "Create a collection"),
      },
    )
    .get(
      "/",
      async ({ principal }) => ({
        collections: (await deps.collections.list(principal.userId))
          .filter((c) => collectionAllowed(principal, c.id)) // an API key's allow-list
          .map(presentCollection),
      }),
      {
        response: { 200: CollectionListSchema, ...problems(...AUTHENTICATED) },
        detail: describeRoute("collections", "List your collections"),
      },
    )
    .get(
      "/:collection_id",
      async ({ principal, params }) => {
        const collection = await deps.collections.get(principal.userId, params.collection_id);
        if (!collection) throw new NotFoundError("collection");
        return presentCollection(collection);
      },
      {
        response: { 200: CollectionSchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("collections", "Get one of your collections"),
      },
    )
    .delete(
      "/:collection_id",
      async ({ principal, params, set }) => {
        const deleted = await deps.collections.delete(principal.userId, params.collection_id);
        if (!deleted) throw new NotFoundError("collection");
        await deps.bumpGeneration(params.collection_id);
        set.status = 204;
      },
      {
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("collections", "Delete a collection and its memories"),
      },
    );
}
