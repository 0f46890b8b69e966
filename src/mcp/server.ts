/**
 * The Memory API as an MCP server: the tools and resources over one API caller. The same server
 * answers on /mcp (Streamable HTTP, one per request, the caller's token) and on stdio
 * (`bun run mcp`, the configured token).
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import pkg from "../../package.json";
import type { ApiCaller } from "./api-caller";
import { TOOLS } from "./tools";
import { listResources, readResource, RESOURCE_TEMPLATES } from "./resources";

export const SERVER_INSTRUCTIONS = [
  "Long-term memory: text memories with JSON metadata, kept in collections, searchable by meaning, words or knowledge graph.",
  "Start with list_collections (or create_collection) to get a collection_id.",
  "Before answering from what you may already know about the user or project, search_memories; store new durable facts with add_memories (one self-contained fact per memory), and fix or remove stale ones with update_memory / delete_memory.",
  "For questions about how named people, places or projects relate, use search_type \"graph\", or get_entity to see one entity's relations.",
].join(" ");

const byName = new Map(TOOLS.map((tool) => [tool.name, tool]));

export function createMcpServer(api: ApiCaller): Server {
  const server = new Server(
    { name: "memory-api", title: "Memory API", version: pkg.version },
    { capabilities: { tools: { listChanged: false }, resources: { listChanged: false } }, instructions: SERVER_INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map((tool) => tool.describe()) }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `unknown tool "${request.params.name}"; the tools are ${TOOLS.map((t) => t.name).join(", ")}`);
    }
    return tool.call(api, request.params.arguments ?? {});
  });
  server.setRequestHandler(ListResourcesRequestSchema, () => listResources(api));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => readResource(api, request.params.uri));
  return server;
}
