import { t, type Static, type TSchema } from "elysia";

/**
 * The filter language as a schema: it documents every operator exactly (the OpenAPI document and
 * generated clients promise what the API accepts) and is the parser's input type. parse.ts turns
 * a valid value into a FilterNode (src/domain/search.ts, which states the semantics), with
 * messages naming the exact path of anything invalid.
 *
 * Nesting is bounded, so the schema is a family: SearchFilter<d> may nest $and / $or / $not
 * `d` more levels (SearchFilter0 none); a request's `filters` is SearchFilter<MAX_FILTER_DEPTH>.
 */
export const METADATA_KEY_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,63}$";
/** Conditions in one filter, counted over every level (a v1 range counts as one). */
export const MAX_FILTER_CONDITIONS = 64;
/**
 * Levels of $and / $or / $not below the top. Three express any practical boolean filter
 * ((a AND NOT b) OR (c AND d)); each level multiplies what a schema-driven fuzzer must cover
 * (measured with schemathesis' coverage phase on POST /v1/search: 611 cases at depth 0, 3,667
 * at 2, 10,543 at 3, ~125,000 at 5).
 */
export const MAX_FILTER_DEPTH = 3;
export const MAX_IN_VALUES = 256;

const Scalar = t.Union([t.String(), t.Number(), t.Boolean()]);

/** Lower bound ($gt or $gte), upper bound ($lt or $lte), or one of each, all of one type. */
const Range = <S extends TSchema>(bound: () => S, what: string) =>
  t.Object(
    { $gt: t.Optional(bound()), $gte: t.Optional(bound()), $lt: t.Optional(bound()), $lte: t.Optional(bound()) },
    {
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 2,
      not: { anyOf: [{ required: ["$gt", "$gte"] }, { required: ["$lt", "$lte"] }] },
      description: `a lower bound ($gt or $gte), an upper bound ($lt or $lte), or one of each; ${what}`,
    },
  );

const one = <S extends TSchema>(op: string, schema: S, description: string) =>
  t.Object({ [op]: schema } as Record<string, S>, { additionalProperties: false, description });

const Values = t.Array(Scalar, { minItems: 1, maxItems: MAX_IN_VALUES });

const MetadataCondition = t.Union(
  [
    Scalar,
    one("$eq", Scalar, "the value, of the same JSON type (1, true and \"1\" differ)"),
    one("$ne", Scalar, "anything but the value: true for a missing key, null, or another type"),
    one("$in", Values, "any of the values"),
    one("$nin", Values, "none of the values: true for a missing key"),
    one("$exists", t.Boolean(), "the key is present (whatever its value, null included), or absent"),
    one("$contains", Scalar, "a string holding this substring (case-sensitive), or an array holding this element"),
    Range(t.Number, "numbers compare numerically; a value that is not a number is false"),
    Range(t.String, "strings compare by code point; a value that is not a string is false"),
  ],
  { description: "a value (equality) or one operator object" },
);

// [0-9], not \d: the pattern must mean the same in every regex dialect a client may check it with.
const DAY_OF_MONTH = "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-9]))";
const TIME = "(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,9})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?";
export const ISO_DATE_PATTERN = `^([0-9]{4})-${DAY_OF_MONTH}${TIME}$`;

const IsoDate = (description: string) =>
  t.String({
    pattern: ISO_DATE_PATTERN,
    description: `ISO-8601 date or date-time, UTC unless an offset is given (29 February of a common year reads as 1 March); ${description}`,
  });

const TimestampCondition = t.Union(
  [
    IsoDate("equal to the millisecond"),
    one("$eq", IsoDate("equal to the millisecond"), "at this instant"),
    one("$ne", IsoDate("not equal"), "at any other instant"),
    Range(() => IsoDate("a bound"), "compared as instants"),
  ],
  { description: "an instant (equality) or one operator object" },
);

/** The conditions of one filter object, without nesting: SearchFilter0. */
const leafProperties = {
  metadata: t.Optional(
    t.Record(t.String({ pattern: METADATA_KEY_PATTERN }), MetadataCondition, {
      maxProperties: MAX_FILTER_CONDITIONS,
      additionalProperties: false,
      description: "key: condition, all of which must hold; a key is one top-level label (a dot is part of it)",
    }),
  ),
  created_at: t.Optional(TimestampCondition),
  updated_at: t.Optional(TimestampCondition),
  created_after: t.Optional(IsoDate("exclusive (v1; the same as created_at: {$gt: ...})")),
  created_before: t.Optional(IsoDate("exclusive (v1; the same as created_at: {$lt: ...})")),
};

const LeafFilter = t.Object(leafProperties, { additionalProperties: false });

/** What a client sends as `filters`: the parser's input type. */
export type FilterBody = Static<typeof LeafFilter> & { $and?: FilterBody[]; $or?: FilterBody[]; $not?: FilterBody };

const FILTER_DESCRIPTION =
  "Every part given must hold (AND). $and: all of the filters, $or: any of them, $not: not that filter. " +
  `At most ${MAX_FILTER_CONDITIONS} conditions in all and ${MAX_FILTER_DEPTH} levels of nesting.`;

/** A filter object whose $and / $or / $not hold `nested`. */
function filterObject(nested: TSchema | null, description = FILTER_DESCRIPTION) {
  if (nested === null) return t.Object(leafProperties, { additionalProperties: false, description });
  return t.Object(
    {
      ...leafProperties,
      $and: t.Optional(t.Array(nested, { minItems: 1, maxItems: MAX_FILTER_CONDITIONS, description: "all of these hold" })),
      $or: t.Optional(t.Array(nested, { minItems: 1, maxItems: MAX_FILTER_CONDITIONS, description: "at least one of these holds" })),
      $not: t.Optional(nested),
    },
    { additionalProperties: false, description },
  );
}

const componentName = (depth: number) => `SearchFilter${depth}`;
const ref = (depth: number) => t.Unsafe<FilterBody>({ $ref: `#/components/schemas/${componentName(depth)}` });

/** The OpenAPI components SearchFilter0..SearchFilter<MAX_FILTER_DEPTH> (openapi.ts adds them). */
export function searchFilterSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (let depth = 0; depth <= MAX_FILTER_DEPTH; depth++) {
    const schema = filterObject(depth === 0 ? null : ref(depth - 1));
    schemas[componentName(depth)] = JSON.parse(JSON.stringify(schema));
  }
  return schemas;
}

/** `filters` as the API documents it. */
export const SearchFilters = ref(MAX_FILTER_DEPTH);

/**
 * `filters` self-contained (no component references), for tool descriptions such as MCP's:
 * the top level exactly, nested filters loosely (the API checks them).
 */
export const SearchFiltersInline = filterObject(
  t.Record(t.String(), t.Unknown(), { description: "a nested filter of the same form" }),
);
