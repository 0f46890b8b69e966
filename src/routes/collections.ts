import { Elysia, t } from "elysia";
import type { Collection } from "../domain/collection";
import type { CollectionStore } from "../ports/collection-store";
import { InvalidInputError, NotFoundError } from "../domain/errors";
import type { AuthPlugin } from "../auth/plugin";
import { problems, AUTHENTICATED, WITH_BODY, describeRoute } from "../http/openapi";
import { CollectionListSchema, CollectionSchema, CreateCollectionBody, PatchCollectionBody } from "./schemas";
import { collectionAllowed } from "../auth/key-access";
import { CostPolicy } from "../http/cost";
import { IDEMPOTENCY_KEY, IdempotencyHeaders, idempotent, type IdempotencyPolicy } from "../http/idempotency";
import { parsePageSize } from "../http/query-params";
import { ListCollectionsQuery, pageOf } from "./collection-page";
import { DEFAULT_DEDUPE_THRESHOLD } from "../domain/dedupe";

export interface CollectionRoutesDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  bumpGeneration: (collectionId: string) => Promise<void>;
  /** Quotas per tier; default: none. */
  cost?: CostPolicy;
  /** `Idempotency-Key` on POST; absent: the header is accepted and ignored. */
  idempotency?: IdempotencyPolicy;
  /** Key of the server's embedding model, recorded on each new collection (embedding-model.ts). */
  embeddingModel?: string;
}

export const presentCollection = ({ id, name, description, created_at, dedupe_threshold }: Collection) => ({
  id,
  name,
  description,
  created_at,
  dedupe_threshold: dedupe_threshold ?? DEFAULT_DEDUPE_THRESHOLD,
});

export function collectionRoutes(deps: CollectionRoutesDeps) {
  const cost = deps.cost ?? new CostPolicy();
  return new Elysia({ name: "collection-routes", prefix: "/v1/collections", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, body, set, headers }) => {
        const fingerprint = { route: "POST /v1/collections", body };
        const stillHolds = async (answer: { id: string }) => (await deps.collections.get(principal.userId, answer.id)) !== null;
        return idempotent(deps.idempotency, { userId: principal.userId, key: headers[IDEMPOTENCY_KEY], fingerprint, set, stillHolds }, async () => {
          await cost.checkQuota(principal, { collections: 1 });
          // A name the owner already uses is a DuplicateNameError: a 409.
          const collection = await deps.collections.create(principal.userId, {
            name: body.name.trim(),
            description: body.description ?? null,
            embedding_model: deps.embeddingModel,
            dedupe_threshold: body.dedupe_threshold,
          });
          cost.recordUsage(principal, { collections: 1 });
          set.status = 201;
          return presentCollection(collection);
        });
      },
      {
        body: CreateCollectionBody,
        headers: IdempotencyHeaders,
        response: { 201: CollectionSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 403, 409) },
        detail: describeRoute("collections", "Create a collection"),
      },
    )
    .get(
      "/",
      async ({ principal, query }) => {
        const visible = (await deps.collections.list(principal.userId)).filter((c) => collectionAllowed(principal, c.id)); // an API key's allow-list
        const page = pageOf(visible, parsePageSize(query.limit), query.cursor);
        return { collections: page.items.map(presentCollection), next_cursor: page.next_cursor };
      },
      {
        query: ListCollectionsQuery,
        response: { 200: CollectionListSchema, ...problems(...AUTHENTICATED, 422) },
        detail: describeRoute("collections", "List your collections, in creation order, a page at a time"),
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
    .patch(
      "/:collection_id",
      async ({ principal, params, body }) => {
        if (body.name === undefined && body.description === undefined && body.dedupe_threshold === undefined) {
          throw new InvalidInputError("body", "give name, description and/or dedupe_threshold to change");
        }
        // A name the owner uses for another collection is a DuplicateNameError: a 409.
        const collection = await deps.collections.update(principal.userId, params.collection_id, {
          name: body.name?.trim(),
          description: body.description,
          dedupe_threshold: body.dedupe_threshold,
        });
        if (!collection) throw new NotFoundError("collection");
        return presentCollection(collection);
      },
      {
        body: PatchCollectionBody,
        response: { 200: CollectionSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute(
          "collections",
          "Rename a collection, change its description or its dedupe threshold",
          "Each field given replaces it; `description: null` clears it, `dedupe_threshold: null` restores the default. A name you already use for another collection is a 409.",
        ),
      },
    )
    .delete(
      "/:collection_id",
      async ({ principal, params, set }) => {
        const deleted = await deps.collections.delete(principal.userId, params.collection_id);
        if (!deleted) throw new NotFoundError("collection");
        cost.forgetUsage(principal);
        await deps.bumpGeneration(params.collection_id);
        set.status = 204;
      },
      {
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("collections", "Delete a collection and its memories"),
      },
    );
}
