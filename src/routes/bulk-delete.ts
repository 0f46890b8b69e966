import { Elysia, type Static } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import type { MemorySelector } from "../domain/bulk-delete";
import { InvalidInputError, NotFoundError } from "../domain/errors";
import { LIMITS } from "../domain/limits";
import { isMatchAll, MATCH_ALL } from "../domain/search";
import { CostPolicy } from "../http/cost";
import { AUTHENTICATED, describeRoute, problems, WITH_BODY } from "../http/openapi";
import type { CollectionStore } from "../ports/collection-store";
import type { MemoryStore } from "../ports/memory-store";
import { parseFilters } from "../search/filters/parse";
import { BulkDeleteAnswer, BulkDeleteBody } from "./bulk-delete-schemas";

export interface BulkDeleteRoutesDeps {
  /** Resolves `principal` (401 otherwise), checks an API key's scope (write) and spends the rate-limit budget. */
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  bumpGeneration: (collectionId: string) => Promise<void>;
  /** Cost-weighted rate limits and quotas; default: none. */
  cost?: CostPolicy;
}

const SELECTORS = ["ids", "filter", "all"] as const;

/** The memories the body picks: exactly one of ids, filter (with a condition) and all: true, else a 422 naming the field. */
export function selectorOf(body: Static<typeof BulkDeleteBody>): MemorySelector {
  const given = SELECTORS.filter((name) => body[name] !== undefined);
  if (given.length === 0) throw new InvalidInputError("body", "give ids, filter or all: true to say which memories to delete");
  if (given.length > 1) throw new InvalidInputError(given[1]!, `give only one of ids, filter and all; this body has ${given.join(" and ")}`);
  if (body.ids !== undefined) return { ids: [...new Set(body.ids)] };
  if (body.all === true) return { filter: MATCH_ALL };
  const filter = parseFilters(body.filter, "filter");
  if (isMatchAll(filter)) {
    throw new InvalidInputError("filter", "has no condition, so it would match every memory; to delete them all, send all: true instead");
  }
  return { filter };
}

/**
 * POST …/memories/delete: deletes a collection's memories by ids or by filter, at most `limit` a
 * call (a client loops while `has_more`), so that one request never holds the event loop or a
 * transaction for long. Each deletion is a single delete's: logged, gone from every index, the
 * collection's cached searches invalidated, the tenant's usage recounted.
 */
export function bulkDeleteRoutes(deps: BulkDeleteRoutesDeps) {
  const cost = deps.cost ?? new CostPolicy();
  return new Elysia({ name: "bulk-delete-routes", prefix: "/v1/collections/:collection_id/memories", normalize: false })
    .use(deps.auth)
    .post(
      "/delete",
      async ({ principal, params, body }) => {
        const selector = selectorOf(body);
        const limit = body.limit ?? LIMITS.deletesPerRequest;
        const dryRun = body.dry_run ?? false;
        if (!(await deps.collections.get(principal.userId, params.collection_id))) throw new NotFoundError("collection");
        const most = "ids" in selector ? Math.min(selector.ids.length, limit) : limit;
        await cost.charge(principal, cost.priceDeletion(most, dryRun), "ids" in selector ? "ids" : "limit");
        const outcome = await deps.memories.deleteMany(params.collection_id, selector, { limit, dryRun }, { by: principal.userId });
        const matched = outcome.ids.length;
        if (!dryRun && matched > 0) {
          cost.forgetUsage(principal);
          await deps.bumpGeneration(params.collection_id);
        }
        return { dry_run: dryRun, matched, deleted: dryRun ? 0 : matched, ids: outcome.ids, has_more: outcome.more };
      },
      {
        body: BulkDeleteBody,
        response: { 200: BulkDeleteAnswer, ...problems(...AUTHENTICATED, ...WITH_BODY, 404) },
        detail: describeRoute(
          "memories",
          "Delete memories by ids or by filter, a bounded number a call",
          "Exactly one of `ids`, `filter` (the search filter language; a filter without a condition is refused) and `all: true`. " +
            "At most `limit` memories (default and maximum 1000), oldest first, go per call, in one transaction; while `has_more`, call again. " +
            "`dry_run: true` deletes nothing and answers what the call would delete. Each deletion is recorded in the memory's history as a `delete`. " +
            "Costs one rate-limit unit per 10 memories it may delete (the ids given, or `limit`); a dry run costs one.",
        ),
      },
    );
}
