/**
 * The MCP tools: each one request of the v1 API, described for a model to choose well. Input
 * schemas reuse the API's own field schemas (limits, patterns, the filter language), so a tool
 * promises exactly what the API accepts.
 */
import { Type } from "@sinclair/typebox";
import {
  AddedMemoriesSchema,
  CollectionListSchema,
  CollectionSchema,
  CreateCollectionBody,
  MemoryPageSchema,
  MemorySchema,
  MetadataSchema,
  NewMemory,
} from "../routes/schemas";
import { LIMITS } from "../domain/limits";
import { DEDUPE_THRESHOLD_RANGE, DEFAULT_DEDUPE_THRESHOLD } from "../domain/dedupe";
import { SearchAnswerSchema } from "../search/request";
import { EntitiesInput, EntityDetailSchema, EntityPageSchema, GRAPH_INPUT_LIMITS, RelationsInput } from "../graph/schemas";
import { SearchFiltersInline } from "../search/filters/schema";
import { MAX_PAGE_SIZE } from "../http/query-params";
import { segment } from "./api-caller";
import { defineTool, type McpTool } from "./tool";
import { plural, renderMemory, renderNextPage } from "./render";

const CollectionId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "id of the collection (list_collections shows the ids of yours)",
});

const MemoryIdArg = Type.String({
  minLength: 1,
  maxLength: LIMITS.idChars,
  description: "id of the memory, as add_memories, search_memories or list_memories returned it",
});

const PageLimit = Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: `page size, 1-${MAX_PAGE_SIZE} (default 100)` });
const Cursor = Type.String({ minLength: 1, maxLength: 1024, description: "next_cursor of the previous page, to get the page after it" });

const strict = { additionalProperties: false } as const;
const memoriesPath = (collectionId: string) => `/v1/collections/${segment(collectionId)}/memories`;
const memoryPath = (collectionId: string, memoryId: string) => `${memoriesPath(collectionId)}/${segment(memoryId)}`;

const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

const listCollections = defineTool({
  name: "list_collections",
  title: "List collections",
  description:
    "List your memory collections (id, name, description), oldest first, a page at a time. Memories always live in a collection, and every other tool needs a collection_id: call this first to find it, or create_collection to make one. Pass the returned next_cursor as cursor for the next page; null means the end.",
  input: Type.Object({ limit: Type.Optional(PageLimit), cursor: Type.Optional(Cursor) }, strict),
  output: CollectionListSchema,
  annotations: READ_ONLY,
  request: ({ limit, cursor }) => ({ method: "GET", path: "/v1/collections", query: { limit, cursor } }),
  render: ({ collections, next_cursor }) =>
    collections.length === 0 && next_cursor === null
      ? "You have no collections yet; create one with create_collection."
      : [
          `${plural(collections.length, "collection")}:`,
          ...collections.map((c) => `- ${c.name} (id ${c.id})${c.description ? `: ${c.description}` : ""}`),
          renderNextPage(next_cursor, "collections"),
        ].join("\n"),
});

const createCollection = defineTool({
  name: "create_collection",
  title: "Create a collection",
  description:
    "Create a collection to keep memories in (one per user, project or topic, say). Names are unique among your collections: an existing name is refused (conflict), so call list_collections first when one may exist. Returns the new collection with its id.",
  input: CreateCollectionBody,
  output: CollectionSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  request: (args) => ({ method: "POST", path: "/v1/collections", body: args }),
  render: (c) => `Created collection "${c.name}" with id ${c.id}.`,
});

const addMemories = defineTool({
  name: "add_memories",
  title: "Add memories",
  description: [
    `Store memories (1-${LIMITS.memoriesPerRequest} per call) in a collection: each one self-contained text (a fact, preference, event or note, understandable without the conversation), with optional JSON metadata to filter on later (e.g. {"kind": "preference", "year": 2026}).`,
    "Give an id to upsert: an existing memory with that id is replaced (keeping its created_at); without one, an id is generated.",
    "People, places and things named in the text, and relations like \"Alice's manager is Priya\", feed the collection's knowledge graph automatically; add `entities` and `relations` to state them explicitly.",
    `To avoid storing what the collection already knows, pass dedupe "skip" (a memory whose meaning is a near-duplicate of a stored one, cosine similarity >= dedupe_threshold, default ${DEFAULT_DEDUPE_THRESHOLD}, is not stored) or "merge" (its metadata is merged into the stored one); memories with an id are never deduplicated.`,
    "Returns the ids, in the order given (a skipped or merged memory's is the id it matched).",
  ].join(" "),
  input: Type.Object(
    {
      collection_id: CollectionId,
      memories: Type.Array(NewMemory, { minItems: 1, maxItems: LIMITS.memoriesPerRequest }),
      dedupe: Type.Optional(
        Type.Union([Type.Literal("off"), Type.Literal("skip"), Type.Literal("merge")], {
          description: 'near-duplicates of stored memories (or of earlier ones of this call): "off" (default) stores them all, "skip" does not store one, "merge" merges its metadata into the match',
        }),
      ),
      dedupe_threshold: Type.Optional(
        Type.Number({ ...DEDUPE_THRESHOLD_RANGE, description: `cosine similarity from which a memory is a near-duplicate (default: the collection's, else ${DEFAULT_DEDUPE_THRESHOLD})` }),
      ),
    },
    strict,
  ),
  output: AddedMemoriesSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  request: ({ collection_id, memories, dedupe, dedupe_threshold }) => ({
    method: "POST",
    path: memoriesPath(collection_id),
    body: { memories, ...(dedupe ? { dedupe } : {}), ...(dedupe_threshold !== undefined ? { dedupe_threshold } : {}) },
  }),
  render: ({ ids, dedupe }) => {
    const kept = (dedupe ?? []).filter((d) => d.action !== "created");
    if (kept.length === 0) return `Stored ${plural(ids.length, "memory", "memories")}; ids: ${ids.join(", ")}.`;
    const stored = ids.length - kept.length;
    return [
      `Stored ${plural(stored, "new memory", "new memories")}; ids: ${ids.join(", ")}.`,
      ...kept.map((d) => `- #${d.index + 1} ${d.action === "skipped" ? "not stored" : "merged"}: a near-duplicate of ${d.matched_id} (similarity ${d.similarity})`),
    ].join("\n");
  },
});

const searchMemories = defineTool({
  name: "search_memories",
  title: "Search memories",
  description: [
    "Find the memories of a collection that answer a query, best first (higher score is better). Choose search_type by the query:",
    "- semantic (default): by meaning, for questions and paraphrases (\"what does the user like to eat?\" finds \"I love Thai food\").",
    "- keyword: by words (BM25, English stemming, any word may match), for exact names, codes, ids and rare terms.",
    "- hybrid: both, fused; a robust choice when unsure, and for queries mixing a rare word with a meaning.",
    "- graph: multi-hop questions about how named people, places, projects relate (\"where does Alice's manager live?\"): follows the collection's knowledge graph 1-2 hops from the entities the query names; each result has the entity path that led to it. Finds nothing when the query names no entity the collection knows: then use semantic or hybrid.",
    'filters narrow the candidates before ranking (so top_k results still come back when that many match): {"metadata": {"kind": "travel", "year": {"$gte": 2020, "$lt": 2026}, "lang": {"$in": ["en", "de"]}, "tags": {"$contains": "work"}}, "created_at": {"$gt": "2026-01-01"}, "$or": [{"metadata": {"pinned": true}}, {"$not": {"metadata": {"archived": {"$exists": true}}}}]}. Operators: $eq $ne $in $nin $gt $gte $lt $lte $exists $contains (substring of a string, or element of an array), on metadata keys and on created_at / updated_at; $and / $or / $not nest. Values match with their JSON type (true, 1 and "1" differ); a missing key fails every condition but $ne, $nin and $exists: false; no other operators exist.',
    "rerank: true re-scores the candidates with a larger model for better precision; pro and enterprise plans only (other plans get an error, so leave it off unless you know the plan). When the reranker is busy the answer comes back unreranked, with rerank_reason.",
  ].join("\n"),
  input: Type.Object(
    {
      collection_id: CollectionId,
      query: Type.String({ minLength: 1, maxLength: LIMITS.queryChars, pattern: "\\S", description: "what to look for, in natural language or keywords" }),
      search_type: Type.Optional(
        Type.Union([Type.Literal("semantic"), Type.Literal("keyword"), Type.Literal("hybrid"), Type.Literal("graph")], {
          default: "semantic",
          description: "semantic (meaning), keyword (words), hybrid (both) or graph (related entities); default semantic",
        }),
      ),
      top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.topK, default: 10, description: `how many results, 1-${LIMITS.topK} (default 10)` })),
      filters: Type.Optional(SearchFiltersInline),
      rerank: Type.Optional(Type.Boolean({ default: false, description: "re-score the candidates with a larger model (pro and enterprise plans only)" })),
    },
    strict,
  ),
  output: SearchAnswerSchema,
  annotations: READ_ONLY,
  request: (args) => ({ method: "POST", path: "/v1/search", body: args }),
  render: (answer, args) => {
    const how = [`${answer.search_type} search`];
    if (answer.reranked) how.push("reranked");
    else if (answer.rerank_reason) how.push(`not reranked: ${answer.rerank_reason}`);
    if (answer.cached) how.push("cached");
    if (answer.results.length === 0) {
      const hint = answer.search_type === "graph" ? " Graph search needs the query to name an entity of the collection; try semantic or hybrid." : "";
      return `No memories matched "${args.query}" (${how.join(", ")}).${hint}`;
    }
    const lines = [`${plural(answer.results.length, "result")} for "${args.query}" (${how.join(", ")}):`];
    answer.results.forEach((hit, i) => {
      lines.push(renderMemory(hit, `${i + 1}. [score ${hit.score.toFixed(3)}]`));
      if (hit.path) lines.push(`   path: ${hit.path.join(" ")}`);
    });
    return lines.join("\n");
  },
});

const getMemory = defineTool({
  name: "get_memory",
  title: "Get a memory",
  description: "Read one memory by id: its full content, metadata, timestamps, and the entities and relations you supplied with it, if any.",
  input: Type.Object({ collection_id: CollectionId, memory_id: MemoryIdArg }, strict),
  output: MemorySchema,
  annotations: READ_ONLY,
  request: ({ collection_id, memory_id }) => ({ method: "GET", path: memoryPath(collection_id, memory_id) }),
  render: (memory) => renderMemory(memory),
});

const listMemories = defineTool({
  name: "list_memories",
  title: "List memories",
  description:
    "List a collection's memories in the order they were added, a page at a time (to browse or review everything; to find something, search_memories is better). Pass the returned next_cursor as cursor for the next page; null means the end.",
  input: Type.Object({ collection_id: CollectionId, limit: Type.Optional(PageLimit), cursor: Type.Optional(Cursor) }, strict),
  output: MemoryPageSchema,
  annotations: READ_ONLY,
  request: ({ collection_id, limit, cursor }) => ({ method: "GET", path: memoriesPath(collection_id), query: { limit, cursor } }),
  render: ({ memories, next_cursor }) =>
    [
      memories.length === 0 ? "No memories on this page." : `${plural(memories.length, "memory", "memories")}:`,
      ...memories.map((m) => renderMemory(m)),
      renderNextPage(next_cursor, "memories"),
    ].join("\n"),
});

const updateMemory = defineTool({
  name: "update_memory",
  title: "Update a memory",
  description:
    "Change a memory that is wrong or out of date, keeping its id and created_at. Give at least one of content, metadata, entities, relations; each given one replaces the old value whole (metadata is not merged: send every key it should keep). The memory's knowledge-graph entries are recomputed.",
  input: Type.Object(
    {
      collection_id: CollectionId,
      memory_id: MemoryIdArg,
      content: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.contentChars, description: "the new text" })),
      metadata: Type.Optional(MetadataSchema),
      entities: Type.Optional(EntitiesInput),
      relations: Type.Optional(RelationsInput),
    },
    strict,
  ),
  output: MemorySchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  request: ({ collection_id, memory_id, ...patch }) => ({ method: "PATCH", path: memoryPath(collection_id, memory_id), body: patch }),
  render: (memory) => `Updated:\n${renderMemory(memory)}`,
});

const deleteMemory = defineTool({
  name: "delete_memory",
  title: "Delete a memory",
  description: "Delete one memory for good (when it is wrong, obsolete, or the user asks to forget it). It disappears from searches at once.",
  input: Type.Object({ collection_id: CollectionId, memory_id: MemoryIdArg }, strict),
  output: Type.Object({ deleted: Type.Literal(true), collection_id: Type.String(), memory_id: Type.String() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  request: ({ collection_id, memory_id }) => ({ method: "DELETE", path: memoryPath(collection_id, memory_id) }),
  result: ({ collection_id, memory_id }) => ({ deleted: true as const, collection_id, memory_id }),
  render: ({ memory_id }) => `Deleted memory ${memory_id}.`,
});

const listEntities = defineTool({
  name: "list_entities",
  title: "List graph entities",
  description:
    "List the entities (people, places, organisations, projects, dates, ...) of a collection's knowledge graph, by name, with how many memories mention each. q keeps the names containing it (case-insensitive), to check how the graph spells someone before get_entity or a graph search.",
  input: Type.Object(
    {
      collection_id: CollectionId,
      q: Type.Optional(Type.String({ maxLength: GRAPH_INPUT_LIMITS.nameChars, description: "part of a name, e.g. \"pri\" for Priya" })),
      limit: Type.Optional(PageLimit),
      cursor: Type.Optional(Cursor),
    },
    strict,
  ),
  output: EntityPageSchema,
  annotations: READ_ONLY,
  request: ({ collection_id, q, limit, cursor }) => ({
    method: "GET",
    path: `/v1/collections/${segment(collection_id)}/entities`,
    query: { q, limit, cursor },
  }),
  render: ({ entities, next_cursor }) =>
    [
      entities.length === 0 ? "No entities matched." : `${plural(entities.length, "entity", "entities")}:`,
      ...entities.map((e) => `- ${e.display} (${e.type}; name "${e.name}"; in ${plural(e.mentions, "memory", "memories")})`),
      renderNextPage(next_cursor, "entities"),
    ].join("\n"),
});

const getEntity = defineTool({
  name: "get_entity",
  title: "Look up a graph entity",
  description:
    "Everything the knowledge graph knows about one entity: its neighbours with the relation to each (MANAGER, LIVES_IN, ... stated in memories; CO_OCCURS when only mentioned together; direction out = this entity is the subject) and the memories that mention it (50 of each at most). The name is matched in any case and with or without a possessive (\"Alice's\" finds alice).",
  input: Type.Object(
    {
      collection_id: CollectionId,
      name: Type.String({ minLength: 1, maxLength: GRAPH_INPUT_LIMITS.nameChars, pattern: "\\S", description: "the entity's name, e.g. \"Priya\"" }),
    },
    strict,
  ),
  output: EntityDetailSchema,
  annotations: READ_ONLY,
  request: ({ collection_id, name }) => ({ method: "GET", path: `/v1/collections/${segment(collection_id)}/entities/${segment(name)}` }),
  render: ({ entity, neighbours, memories }) =>
    [
      `${entity.display} (${entity.type}), mentioned in ${plural(entity.mentions, "memory", "memories")}.`,
      neighbours.length === 0 ? "No neighbours." : "Neighbours:",
      ...neighbours.map((n) => {
        const arrow = n.direction === "out" ? `-${n.relation}->` : n.direction === "in" ? `<-${n.relation}-` : `~${n.relation}~`;
        return `- ${entity.display} ${arrow} ${n.display} (${n.type}, weight ${n.weight})`;
      }),
      memories.length === 0 ? "No memories mention it." : "Memories mentioning it:",
      ...memories.map((m) => renderMemory(m)),
    ].join("\n"),
});

/** Every tool, in the order clients list them. */
export const TOOLS: readonly McpTool[] = [
  listCollections,
  createCollection,
  addMemories,
  searchMemories,
  getMemory,
  listMemories,
  updateMemory,
  deleteMemory,
  listEntities,
  getEntity,
];
