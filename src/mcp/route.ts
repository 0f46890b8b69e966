/**
 * POST /mcp: the Model Context Protocol over Streamable HTTP, stateless (no session id, a fresh
 * server per request, JSON answers), so any worker behind nginx answers any request.
 *
 * The request itself is authenticated (401 problem like every route) but spends no rate-limit
 * budget: each tool call is an API request through the app's own handler, with the caller's
 * Authorization header, and spends it there, with the same tiers, validation and problems as an
 * HTTP client. Listing tools or initializing costs nothing.
 */
import { Elysia } from "elysia";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { AuthPlugin } from "../auth/plugin";
import { ProblemError } from "../http/problem";
import { inAppCaller } from "./api-caller";
import { createMcpServer } from "./server";

export interface McpRoutesDeps {
  /** Verifies the caller's token (401 otherwise); give it no rate limit (see above). */
  auth: AuthPlugin;
  /** The app's own request handler, which the tools call. */
  handle: (request: Request) => Promise<Response>;
}

const STATELESS =
  "This server is stateless: POST each JSON-RPC message to /mcp; there is no event stream to GET and no session to DELETE";

/** The one endpoint of the MCP server (POST a JSON-RPC message). */
export const MCP_PATH = "/mcp";

export function mcpRoutes(deps: McpRoutesDeps) {
  const notAllowed = () => {
    throw new ProblemError(405, "method_not_allowed", STATELESS, { headers: { allow: "POST" } });
  };
  return new Elysia({ name: "mcp", normalize: false })
    .use(deps.auth)
    .post(
      MCP_PATH,
      async ({ request, body, set }) => {
        if (body === undefined) {
          throw new ProblemError(400, "invalid_json", "the body must be a JSON-RPC message (or a batch of them) of the Model Context Protocol");
        }
        const requestId = set.headers["x-request-id"];
        const api = inAppCaller(deps.handle, new URL(request.url).origin, {
          authorization: request.headers.get("authorization") ?? "",
          requestId: typeof requestId === "string" ? requestId : undefined,
        });
        const server = createMcpServer(api);
        const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        await server.connect(transport);
        try {
          return await transport.handleRequest(request, { parsedBody: body });
        } finally {
          await server.close();
        }
      },
      // Not in /openapi.json: its contract is the MCP specification (the tools describe themselves
      // in tools/list), and a REST description of one JSON-RPC endpoint would promise nothing useful.
      { detail: { hide: true } },
    )
    .get(MCP_PATH, notAllowed, { detail: { hide: true } })
    .delete(MCP_PATH, notAllowed, { detail: { hide: true } });
}
