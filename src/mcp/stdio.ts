/**
 * `bun run mcp`: the Memory API's MCP server on stdio, for desktop clients (Claude Desktop,
 * editors) that start a local program. It is a client of the API over HTTP, configured by
 * MEMORY_API_URL and MEMORY_API_TOKEN (see src/mcp/stdio-config.ts); stdout carries the protocol, so
 * everything else goes to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError } from "../env-reader";
import { loadMcpStdioConfig } from "./stdio-config";
import { httpCaller } from "./api-caller";
import { createMcpServer } from "./server";

const USAGE = `usage: bun run mcp
  The Memory API as an MCP server on stdio (for an MCP client to start; see docs/agents.md).

  env: MEMORY_API_TOKEN (required; bun run token -- --sub USER --days 30 --long)
       MEMORY_API_URL (http://127.0.0.1:8000), MEMORY_API_TIMEOUT_MS (30000)`;

const say = (message: string) => process.stderr.write(`memory-api mcp: ${message}\n`);

const args = process.argv.slice(2).filter((a) => a !== "--");
if (args.includes("--help") || args.includes("-h")) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(0);
}
if (args.length > 0) {
  say(`unexpected argument ${args[0]}: the server is configured by environment variables\n${USAGE}`);
  process.exit(2);
}

let config;
try {
  config = loadMcpStdioConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  say(`${error.message}\n${USAGE}`);
  process.exit(2);
}

const api = httpCaller({ baseUrl: config.memoryApiUrl, token: config.memoryApiToken, timeoutMs: config.timeoutMs });
const server = createMcpServer(api);
const transport = new StdioServerTransport();
await server.connect(transport);
say(`serving on stdio; Memory API at ${config.memoryApiUrl}`);

// Said at start-up (on stderr, which clients keep as the server's log) rather than first
// discovered by a model; /health needs no token and spends no budget.
fetch(`${config.memoryApiUrl.replace(/\/+$/, "")}/health`, { signal: AbortSignal.timeout(5000) }).then(
  (response) => {
    if (!response.ok) say(`warning: ${config.memoryApiUrl}/health answered ${response.status}`);
  },
  (error: unknown) => say(`warning: the Memory API is unreachable at ${config.memoryApiUrl} (${(error as Error).message}); tools will fail until it answers`),
);

const stop = () => void server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// When the client closes stdin, requests still in flight are answered, then the process ends on
// its own (nothing else keeps it alive).
