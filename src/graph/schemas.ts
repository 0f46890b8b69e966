import { t } from "elysia";
import { PageSizeParam } from "../http/query-params";
import { ENTITY_CURSOR_PATTERN } from "../domain/entity-cursor";

/** Bounds on the entities and relations a client may supply with one memory. */
export const GRAPH_INPUT_LIMITS = {
  entities: 50,
  relations: 50,
  nameChars: 200,
  typeChars: 64,
  relationChars: 64,
} as const;

const Name = t.String({ minLength: 1, maxLength: GRAPH_INPUT_LIMITS.nameChars, pattern: "\\S" });

export const EntityInput = t.Object(
  {
    name: Name,
    type: t.Optional(t.String({ minLength: 1, maxLength: GRAPH_INPUT_LIMITS.typeChars, pattern: "\\S" })),
  },
  { additionalProperties: false },
);

export const RelationInput = t.Object(
  {
    source: Name,
    relation: t.String({ minLength: 1, maxLength: GRAPH_INPUT_LIMITS.relationChars, pattern: "\\S" }),
    target: Name,
  },
  { additionalProperties: false },
);

export const EntitiesInput = t.Array(EntityInput, {
  maxItems: GRAPH_INPUT_LIMITS.entities,
  description: "entities this memory mentions (kept besides the extracted ones; their type wins)",
});

export const RelationsInput = t.Array(RelationInput, {
  maxItems: GRAPH_INPUT_LIMITS.relations,
  description: "relations this memory states; an endpoint not in `entities` becomes an entity",
});

export const EntitySchema = t.Object({
  name: t.String({ description: "normal form: lower case, whitespace collapsed, possessive removed" }),
  display: t.String(),
  type: t.String(),
  mentions: t.Integer(),
});

export const EntityPageSchema = t.Object({
  entities: t.Array(EntitySchema),
  next_cursor: t.Union([t.String(), t.Null()]),
});

export const EntityDetailSchema = t.Object({
  entity: EntitySchema,
  neighbours: t.Array(
    t.Object({
      name: t.String(),
      display: t.String(),
      type: t.String(),
      relation: t.String(),
      direction: t.Union([t.Literal("out"), t.Literal("in"), t.Literal("both")]),
      weight: t.Number(),
    }),
  ),
  memories: t.Array(
    t.Object({
      id: t.String(),
      content: t.String(),
      metadata: t.Record(t.String(), t.Unknown()),
      created_at: t.String(),
    }),
  ),
});

export const ListEntitiesQuery = t.Object({
  q: t.Optional(t.String({ maxLength: GRAPH_INPUT_LIMITS.nameChars })),
  limit: t.Optional(PageSizeParam),
  cursor: t.Optional(t.String({ maxLength: 1024, pattern: ENTITY_CURSOR_PATTERN, description: "next_cursor of the previous page" })),
});
