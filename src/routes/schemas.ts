import { t } from "elysia";
import { EntitiesInput, RelationsInput } from "../graph/schemas";
import { PageSizeParam } from "../http/query-params";
import { documentedAs } from "../http/documented";
import { SEQ_CURSOR_PATTERN } from "../domain/seq-cursor";

import { LIMITS } from "../domain/limits";
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

export const CreateCollectionBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: LIMITS.collectionName, pattern: "\\S" }),
    description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()])),
  },
  { additionalProperties: false },
);

const collectionPatchFields = {
  name: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.collectionName, pattern: "\\S", description: "a new name (unique among your collections)" })),
  description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()], { description: "a new description; null clears it" })),
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
  { memories: t.Array(NewMemory, { minItems: 1, maxItems: LIMITS.memoriesPerRequest }) },
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

export const ListMemoriesQuery = t.Object({
  limit: t.Optional(PageSizeParam),
  cursor: t.Optional(t.String({ maxLength: 256, pattern: SEQ_CURSOR_PATTERN, description: "next_cursor of the previous page" })),
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

export const AddedMemoriesSchema = t.Object({
  ids: t.Array(t.String(), { description: "the ids of the memories, in the order given" }),
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
