/**
 * `bun run mcp`'s settings, from the environment: the Memory API it calls and the token it calls
 * with. Beside the program, not in src/config.ts (that one reads the server's settings only).
 */
import { ConfigError, EnvReader, type Env } from "../env-reader";

export interface McpStdioConfig {
  memoryApiUrl: string;
  memoryApiToken: string;
  /** Per API request a tool makes; a slower answer is a tool error. */
  timeoutMs: number;
}

export function loadMcpStdioConfig(env: Env = process.env): McpStdioConfig {
  const r = new EnvReader(env);
  const memoryApiToken = r.optional("MEMORY_API_TOKEN");
  if (memoryApiToken === undefined) r.problems.push("MEMORY_API_TOKEN is required (mint one with `bun run token -- --sub USER --days 30 --long`)");
  const config: McpStdioConfig = {
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryApiToken: memoryApiToken ?? "",
    timeoutMs: r.int("MEMORY_API_TIMEOUT_MS", 30_000, 100, 600_000),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
