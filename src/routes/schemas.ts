import { t } from "elysia";

/** Request and response schemas: the types of the handlers and of the OpenAPI document. */

export const LIMITS = {
  collectionName: 128,
  description: 1024,
  contentChars: 65_536,
  memoriesPerRequest: 1000,
  idChars: 128,
  queryChars: 4096,
  topK: 100,
  pageSize: 1000,
  metadataBytes: 16_384,
  metadataDepth: 5,
} as const;

const MemoryId = t.String({
  minLength: 1,
  maxLength: LIMITS.idChars,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._:\\-]*$",
  description: "client-chosen id (letters, digits, . _ : -); upserts when it exists",
});

const MetadataSchema = t.Record(t.String(), t.Unknown(), {
  description: `free-form JSON object, at most ${LIMITS.metadataBytes} bytes and ${LIMITS.metadataDepth} levels deep`,
});

export const CreateCollectionBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: LIMITS.collectionName, pattern: "\\S" }),
    description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()])),
  },
  { additionalProperties: false },
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
  },
  { additionalProperties: false },
);

export const AddMemoriesBody = t.Object(
  { memories: t.Array(NewMemory, { minItems: 1, maxItems: LIMITS.memoriesPerRequest }) },
  { additionalProperties: false },
);

export const PatchMemoryBody = t.Object(
  {
    content: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.contentChars })),
    metadata: t.Optional(MetadataSchema),
  },
  { additionalProperties: false },
);

// `limit` stays a string here: Elysia coerces numeric query parameters one by one and its
// error then no longer says which parameter failed, so the route parses it (parsePageSize).
export const ListMemoriesQuery = t.Object({
  limit: t.Optional(t.String({ description: `page size, 1-${LIMITS.pageSize} (default 100)` })),
  cursor: t.Optional(t.String({ maxLength: 256 })),
});

export const MemorySchema = t.Object({
  id: t.String(),
  content: t.String(),
  metadata: t.Record(t.String(), t.Unknown()),
  created_at: t.String(),
  updated_at: t.String(),
});

export const SearchBody = t.Object(
  {
    query: t.String({ minLength: 1, maxLength: LIMITS.queryChars, pattern: "\\S" }),
    collection_id: t.String({ minLength: 1, maxLength: 64 }),
    top_k: t.Optional(t.Integer({ minimum: 1, maximum: LIMITS.topK, default: 10 })),
    search_type: t.Optional(
      t.Union([t.Literal("semantic"), t.Literal("keyword"), t.Literal("hybrid")], { default: "semantic" }),
    ),
    filters: t.Optional(
      t.Record(t.String(), t.Unknown(), {
        description:
          '{"metadata": {key: value | {"$in": [...]} | {"$gte": x, "$lte": y}}, "created_after": ISO, "created_before": ISO}',
      }),
    ),
    rerank: t.Optional(t.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const ProblemSchema = t.Object({
  type: t.String(),
  title: t.String(),
  status: t.Integer(),
  detail: t.String(),
  code: t.String(),
  field: t.Optional(t.String()),
  request_id: t.Optional(t.String()),
});
