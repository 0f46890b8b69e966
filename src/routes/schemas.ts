import { t } from "elysia";
import { EntitiesInput, RelationsInput } from "../graph/schemas";
import { PageSizeParam } from "../http/query-params";
import { documentedAs } from "../http/documented";
import { SEQ_CURSOR_PATTERN } from "../domain/seq-cursor";

import { LIMITS } from "../domain/limits";
import { DEDUPE_THRESHOLD_RANGE, DEFAULT_DEDUPE_THRESHOLD } from "../domain/dedupe";
import { expiryFields, expiryPatchFields } from "./expiry";
import { MAX_FILTER_PARAM_CHARS } from "../search/filters/query-param";
import { SearchFilters } from "../search/filters/schema";

/** Request and response schemas: the types of the handlers and of the OpenAPI document. */


export const MemoryId = t.String({
  minLength: 1,
  maxLength: LIMITS.idChars,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._:\\-]*$",
  description: "client-chosen id (letters, digits, . _ : -); upserts when it exists",
});

export const MetadataSchema = t.Record(t.String(), t.Unknown(), {
  description: `free-form JSON object, at most ${LIMITS.metadataBytes} bytes and ${LIMITS.metadataDepth} levels deep`,
});

const DedupeThreshold = t.Number({
  ...DEDUPE_THRESHOLD_RANGE,
  description: `the collection's cosine similarity from which a new memory is a near-duplicate (dedupe on POST …/memories), ${DEDUPE_THRESHOLD_RANGE.minimum}..${DEDUPE_THRESHOLD_RANGE.maximum}; default ${DEFAULT_DEDUPE_THRESHOLD}`,
});

export const CreateCollectionBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: LIMITS.collectionName, pattern: "\\S" }),
    description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()])),
    dedupe_threshold: t.Optional(DedupeThreshold),
  },
  { additionalProperties: false },
);

const collectionPatchFields = {
  name: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.collectionName, pattern: "\\S", description: "a new name (unique among your collections)" })),
  description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()], { description: "a new description; null clears it" })),
  dedupe_threshold: t.Optional(t.Union([DedupeThreshold, t.Null()], { description: "a new dedupe threshold (0.5..1); null: back to the default" })),
};

// An empty patch is refused by the route, with a message saying what a patch may change.
export const PatchCollectionBody = documentedAs(
  t.Object(collectionPatchFields, { additionalProperties: false }),
  t.Object(collectionPatchFields, { additionalProperties: false, minProperties: 1 }),
);

export const CollectionSchema = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  created_at: t.String(),
  dedupe_threshold: t.Number({ description: `the dedupe threshold of POST …/memories (the default ${DEFAULT_DEDUPE_THRESHOLD} unless set)` }),
});

export const NewMemory = t.Object(
  {
    content: t.String({ minLength: 1, maxLength: LIMITS.contentChars }),
    metadata: t.Optional(MetadataSchema),
    id: t.Optional(MemoryId),
    entities: t.Optional(EntitiesInput),
    relations: t.Optional(RelationsInput),
    ...expiryFields,
  },
  { additionalProperties: false },
);

export const AddMemoriesBody = t.Object(
  {
    memories: t.Array(NewMemory, { minItems: 1, maxItems: LIMITS.memoriesPerRequest }),
    dedupe: t.Optional(
      t.Union([t.Literal("off"), t.Literal("skip"), t.Literal("merge")], {
        description:
          'near-duplicates among the items without an id: "off" (default) writes them all; "skip" does not write one; "merge" merges its metadata (and expiry) into the memory it matched',
      }),
    ),
    dedupe_threshold: t.Optional(
      t.Number({ ...DEDUPE_THRESHOLD_RANGE, description: `overrides the collection's dedupe_threshold for this request (default ${DEFAULT_DEDUPE_THRESHOLD})` }),
    ),
  },
  { additionalProperties: false },
);

const patchFields = {
  content: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.contentChars })),
  metadata: t.Optional(MetadataSchema),
  entities: t.Optional(EntitiesInput),
  relations: t.Optional(RelationsInput),
  ...expiryPatchFields,
};

// An empty patch is refused by the route, with a message saying what a patch may change.
export const PatchMemoryBody = documentedAs(
  t.Object(patchFields, { additionalProperties: false }),
  t.Object(patchFields, { additionalProperties: false, minProperties: 1 }),
);

const SeqCursorParam = t.String({ maxLength: 256, pattern: SEQ_CURSOR_PATTERN, description: "next_cursor of the previous page" });

/** A page of a memory's history: no filter (a history is one memory's). */
export const HistoryQuery = t.Object({
  limit: t.Optional(PageSizeParam),
  cursor: t.Optional(SeqCursorParam),
});

export const ListMemoriesQuery = t.Object({
  limit: t.Optional(PageSizeParam),
  cursor: t.Optional(SeqCursorParam),
  filter: t.Optional(
    // parsed by parseFilterParam, whose messages name the path; documented as JSON of SearchFilters
    documentedAs(
      t.String({
        maxLength: MAX_FILTER_PARAM_CHARS,
        description:
          'only the memories this filter matches: URL-encoded JSON of the search filter language, e.g. {"metadata":{"tag":{"$in":["a","b"]}}}; the cursor pages through the matches',
      }),
      SearchFilters,
    ),
  ),
});

export const MemorySchema = t.Object({
  id: t.String(),
  content: t.String(),
  metadata: t.Record(t.String(), t.Unknown()),
  created_at: t.String(),
  updated_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()], { description: "when it expires (ISO-8601); null: never" }),
  entities: t.Optional(EntitiesInput),
  relations: t.Optional(RelationsInput),
});


export const ProblemSchema = t.Object({
  type: t.String(),
  title: t.String(),
  status: t.Integer(),
  detail: t.String(),
  code: t.String(),
  field: t.Optional(t.String()),
  request_id: t.Optional(t.String()),
});

// Response shapes: they type the handlers and the Eden client, and document the API.

export const CollectionListSchema = t.Object({
  collections: t.Array(CollectionSchema),
  next_cursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next page; null on the last" }),
});

export const DedupeOutcomeSchema = t.Object({
  index: t.Integer({ description: "the item's position in `memories`" }),
  action: t.Union([t.Literal("created"), t.Literal("skipped"), t.Literal("merged")], {
    description: "created: written as given (an item with an id: that id upserted); skipped: not written; merged: merged into matched_id",
  }),
  matched_id: t.Optional(t.String({ description: "the memory it is a near-duplicate of (skipped, merged)" })),
  similarity: t.Optional(t.Number({ description: "cosine similarity to matched_id, 4 decimals" })),
});

export const AddedMemoriesSchema = t.Object({
  ids: t.Array(t.String(), { description: "the ids of the memories, in the order given; a skipped or merged item's is the id of the memory it matched" }),
  dedupe: t.Optional(t.Array(DedupeOutcomeSchema, { description: "with dedupe skip or merge: what became of each item, in order" })),
});

export const MemoryPageSchema = t.Object({
  memories: t.Array(MemorySchema),
  next_cursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next page; null at the end" }),
});



export const HealthSchema = t.Object({ status: t.Literal("healthy"), version: t.String() });

export const ReadinessSchema = t.Object({
  status: t.Union([t.Literal("ready"), t.Literal("degraded"), t.Literal("not_ready")]),
  dependencies: t.Array(
    t.Object({
      name: t.String(),
      ready: t.Boolean(),
      optional: t.Optional(t.Boolean()),
      latency_ms: t.Optional(t.Number()),
      detail: t.Optional(t.String()),
    }),
  ),
}, { description: "each dependency's state; 503 with Retry-After while a required one is not ready" });
