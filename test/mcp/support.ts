/**
 * The MCP tests talk to a real Memory API process (embedded, or production on the real services
 * when TEST_BACKEND=production) the way agents do: over Streamable HTTP at /mcp, and through
 * `bun run mcp` on stdio pointed at it. Tokens are signed by an independent encoder.
 */
import { expect } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { accessClaims, hs256, nowSeconds } from "../support/jwt";
import { ROOT, startMemoryApi, type MemoryApiProcess } from "../clients/support";

/** The free tier's budget on the test server: small, so a test can spend it. */
export const FREE_PER_MINUTE = 12;

export interface McpTestServer {
  api: MemoryApiProcess;
  mcpUrl: string;
  token(sub: string, tier?: "free" | "starter" | "pro" | "enterprise"): Promise<string>;
  expiredToken(sub: string): Promise<string>;
}

export async function startMcpTestServer(): Promise<McpTestServer> {
  const api = await startMemoryApi({ RATE_LIMIT_FREE: String(FREE_PER_MINUTE) });
  const secret = api.env.JWT_SECRET!;
  return {
    api,
    mcpUrl: `${api.url}/mcp`,
    token: (sub, tier = "free") => hs256(secret, accessClaims(sub, { tier })),
    expiredToken: (sub) => hs256(secret, accessClaims(sub, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })),
  };
}

export const newUser = (label: string) => `${label}-${crypto.randomUUID()}`;

export type TransportName = "streamable-http" | "stdio";
export const TRANSPORTS: TransportName[] = ["streamable-http", "stdio"];

export interface ConnectedClient {
  client: Client;
  /** What the stdio server wrote to stderr (its log); empty over HTTP. */
  stderr(): string;
  close(): Promise<void>;
}

/** The SDK's own client, connected over Streamable HTTP with the token as a bearer header. */
export async function httpClient(server: McpTestServer, token: string | undefined): Promise<ConnectedClient> {
  const client = new Client({ name: "memory-api-tests", version: "1.0.0" });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers } }));
  return { client, stderr: () => "", close: () => client.close() };
}

/** The SDK's own client, starting `bun run mcp` (the way a desktop client does) pointed at the server. */
export async function stdioClient(server: McpTestServer, token: string, extraEnv: Record<string, string> = {}): Promise<ConnectedClient> {
  const client = new Client({ name: "memory-api-tests", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["run", "mcp"],
    cwd: ROOT,
    env: { MEMORY_API_URL: server.api.url, MEMORY_API_TOKEN: token, ...extraEnv },
    stderr: "pipe",
  });
  let log = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString("utf8");
  });
  await client.connect(transport);
  return { client, stderr: () => log, close: () => client.close() };
}

export const connect = (transport: TransportName, server: McpTestServer, token: string) =>
  transport === "stdio" ? stdioClient(server, token) : httpClient(server, token);

/** The text of a tool result (every result has one text block). */
export function textOf(result: CallToolResult): string {
  const block = result.content[0];
  if (block?.type !== "text") throw new Error(`expected a text block, got ${JSON.stringify(result.content)}`);
  return block.text;
}

/** A tool result that must have succeeded: its structured content. */
export async function callOk(client: Client, name: string, args: Record<string, unknown>): Promise<{ structured: any; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return { structured: result.structuredContent, text: textOf(result) };
}

/** A tool result that must be a tool error: its text. */
export async function callError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (!result.isError) throw new Error(`${name} was expected to fail, got ${JSON.stringify(result.structuredContent)}`);
  expect(result.structuredContent).toBeUndefined();
  return textOf(result);
}
