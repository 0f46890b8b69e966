/**
 * Collections (and their memories) as MCP resources, for clients that let a user attach context:
 * `memory://collections/{id}` reads as the collection with its first page of memories,
 * `memory://collections/{id}/memories/{memory_id}` as one memory. Each read is the API's own
 * answer, made with the caller's credentials.
 */
import { ErrorCode, McpError, type ListResourcesResult, type ReadResourceResult, type ResourceTemplate } from "@modelcontextprotocol/sdk/types.js";
import type { ApiCaller, ApiProblem, ApiRequest } from "./api-caller";
import { segment } from "./api-caller";
import { describeProblem } from "./tool";

/** Memories included when a collection is read (the first page; tools page through the rest). */
export const COLLECTION_RESOURCE_MEMORIES = 100;

const JSON_TYPE = "application/json";
const SCHEME = "memory://collections/";
const COLLECTION_URI = /^memory:\/\/collections\/([^/?#]+)$/;
const MEMORY_URI = /^memory:\/\/collections\/([^/?#]+)\/memories\/([^/?#]+)$/;

/** The MCP spec's code for a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;

export const collectionUri = (collectionId: string) => `${SCHEME}${segment(collectionId)}`;
export const memoryUri = (collectionId: string, memoryId: string) => `${collectionUri(collectionId)}/memories/${segment(memoryId)}`;

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: `${SCHEME}{collection_id}`,
    name: "collection",
    title: "A collection",
    description: `A collection: its name and description, and its first ${COLLECTION_RESOURCE_MEMORIES} memories in insertion order (next_cursor continues with list_memories).`,
    mimeType: JSON_TYPE,
  },
  {
    uriTemplate: `${SCHEME}{collection_id}/memories/{memory_id}`,
    name: "memory",
    title: "A memory",
    description: "One memory: content, metadata, timestamps.",
    mimeType: JSON_TYPE,
  },
];

interface CollectionAnswer {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
}

function refusal(uri: string, problem: ApiProblem): McpError {
  if (problem.status === 404) return notFound(uri, problem.detail);
  const code = problem.status >= 400 && problem.status < 500 ? ErrorCode.InvalidRequest : ErrorCode.InternalError;
  return new McpError(code, describeProblem(problem), { uri, status: problem.status, problem: problem.code });
}

async function fetchJson(api: ApiCaller, uri: string, request: ApiRequest): Promise<unknown> {
  const reply = await api(request);
  if (!reply.ok) throw refusal(uri, reply.problem);
  return reply.body;
}

export async function listResources(api: ApiCaller): Promise<ListResourcesResult> {
  const { collections } = (await fetchJson(api, SCHEME, { method: "GET", path: "/v1/collections" })) as { collections: CollectionAnswer[] };
  return {
    resources: collections.map((c) => ({
      uri: collectionUri(c.id),
      name: c.name,
      title: `Collection "${c.name}"`,
      description: c.description ?? `memories of the collection "${c.name}"`,
      mimeType: JSON_TYPE,
    })),
  };
}

function notFound(uri: string, why: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri} (${why})`, { uri });
}

function decode(uri: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw notFound(uri, "malformed percent-encoding");
  }
}

export async function readResource(api: ApiCaller, uri: string): Promise<ReadResourceResult> {
  const json = (value: unknown) => ({ contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(value, null, 2) }] });
  const memory = MEMORY_URI.exec(uri);
  if (memory) {
    const [collectionId, memoryId] = [decode(uri, memory[1]!), decode(uri, memory[2]!)];
    return json(await fetchJson(api, uri, { method: "GET", path: `/v1/collections/${segment(collectionId)}/memories/${segment(memoryId)}` }));
  }
  const collection = COLLECTION_URI.exec(uri);
  if (collection) {
    const collectionId = decode(uri, collection[1]!);
    const path = `/v1/collections/${segment(collectionId)}`;
    const about = (await fetchJson(api, uri, { method: "GET", path })) as CollectionAnswer;
    const page = (await fetchJson(api, uri, { method: "GET", path: `${path}/memories`, query: { limit: COLLECTION_RESOURCE_MEMORIES } })) as {
      memories: unknown[];
      next_cursor: string | null;
    };
    return json({ collection: about, memories: page.memories, next_cursor: page.next_cursor });
  }
  throw notFound(uri, `this server's resources are ${RESOURCE_TEMPLATES.map((r) => r.uriTemplate).join(" and ")}`);
}
