import { t } from "elysia";
import { LIMITS } from "../domain/limits";
import { documentedAs } from "../http/documented";
import { SearchFilters } from "../search/filters/schema";
import { MemoryId } from "./schemas";

/** POST …/memories/delete: the request and answer of a bulk delete (src/routes/bulk-delete.ts). */

const MAX = LIMITS.deletesPerRequest;

const ids = t.Array(MemoryId, {
  minItems: 1,
  maxItems: MAX,
  description: `these memories (1-${MAX} ids); ids that do not exist are skipped`,
});

const all = t.Literal(true, { description: "every memory of the collection: said explicitly, so that no empty filter deletes everything by accident" });

const FILTER_DESCRIPTION =
  "the memories this filter matches: the filter language of POST /v1/search (metadata operators, created_at / updated_at, $and / $or / $not); " +
  "a filter without any condition is refused (send all: true to mean every memory)";

const options = {
  dry_run: t.Optional(
    t.Boolean({ default: false, description: "only find what would be deleted (ids, matched, has_more); nothing is deleted" }),
  ),
  limit: t.Optional(
    t.Integer({
      minimum: 1,
      maximum: MAX,
      default: MAX,
      description: `at most this many memories, oldest first, are deleted by this call (default and maximum ${MAX}); has_more says whether to call again`,
    }),
  ),
};

/**
 * Exactly one of `ids`, `filter` and `all`. The route validates the body loosely and checks that
 * rule and the filter by hand, so every message names the field; the document states the exact
 * form (one object per selector).
 */
export const BulkDeleteBody = documentedAs(
  t.Object(
    {
      ids: t.Optional(ids),
      filter: t.Optional(t.Record(t.String(), t.Unknown())),
      all: t.Optional(all),
      ...options,
    },
    { additionalProperties: false },
  ),
  t.Union(
    [
      t.Object({ ids, ...options }, { additionalProperties: false, description: "delete by ids" }),
      t.Object(
        { filter: t.Unsafe({ allOf: [SearchFilters], minProperties: 1, description: FILTER_DESCRIPTION }), ...options },
        { additionalProperties: false, description: "delete by filter" },
      ),
      t.Object({ all, ...options }, { additionalProperties: false, description: "delete every memory" }),
    ],
    { description: "which memories: exactly one of ids, filter and all" },
  ),
);

export const BulkDeleteAnswer = t.Object({
  dry_run: t.Boolean(),
  matched: t.Integer({ description: "memories this call picked (at most limit): those it deleted, or, in a dry run, those it would delete" }),
  deleted: t.Integer({ description: "memories deleted: matched, or 0 in a dry run" }),
  ids: t.Array(t.String(), { description: "the ids picked, oldest memory first" }),
  has_more: t.Boolean({ description: "more memories match beyond limit: call again (with the same body) until false" }),
});
