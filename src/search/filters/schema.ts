import { t } from "elysia";

/**
 * The `filters` of a search as a schema: it documents the operator language exactly (so the
 * OpenAPI document and generated clients promise what the API accepts) and rejects unknown
 * filters and operators at validation. parseFilters (filters.ts) turns a valid value into a
 * SearchFilter.
 */
export const METADATA_KEY_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,63}$";
export const MAX_FILTER_CONDITIONS = 32;
export const MAX_IN_VALUES = 256;

const Scalar = t.Union([t.String(), t.Number(), t.Boolean()]);

const Range = (bound: typeof t.String | typeof t.Number) =>
  t.Object({ $gte: t.Optional(bound()), $lte: t.Optional(bound()) }, { additionalProperties: false, minProperties: 1 });

const Condition = t.Union([
  Scalar,
  t.Object({ $in: t.Array(Scalar, { minItems: 1, maxItems: MAX_IN_VALUES }) }, { additionalProperties: false }),
  Range(t.String),
  Range(t.Number),
]);

// [0-9], not \d: the pattern must mean the same in every regex dialect a client may check it with.
const DAY_OF_MONTH = "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-9]))";
const TIME = "(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,9})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?";
export const ISO_DATE_PATTERN = `^([0-9]{4})-${DAY_OF_MONTH}${TIME}$`;

const IsoDate = t.String({
  pattern: ISO_DATE_PATTERN,
  description: "ISO-8601 date or date-time, UTC unless an offset is given (29 February of a common year reads as 1 March); exclusive",
});

export const SearchFilters = t.Object(
  {
    metadata: t.Optional(
      t.Record(t.String({ pattern: METADATA_KEY_PATTERN }), Condition, {
        maxProperties: MAX_FILTER_CONDITIONS,
        additionalProperties: false,
        description: 'key: value | {"$in": [...]} | {"$gte": x, "$lte": y} (both bounds numbers, or both strings)',
      }),
    ),
    created_after: t.Optional(IsoDate),
    created_before: t.Optional(IsoDate),
  },
  { additionalProperties: false },
);
