/**
 * The importer's settings, from the environment: the Memory API it writes to, the Notion API it
 * reads with `--api`, and how it chunks and batches. Throws a ConfigError naming each bad variable.
 */
import { ConfigError, EnvReader, type Env } from "../../src/env-reader";

export interface NotionImportConfig {
  memoryApiUrl: string;
  memoryApiToken: string;
  /** Required only for `--api`. */
  notionToken: string | undefined;
  /** Notion's API unless set (the tests point it at a local server of recorded answers). */
  notionApiUrl: string | undefined;
  notionRequestsPerSecond: number;
  notionMaxRetries: number;
  chunkChars: number;
  batchSize: number;
}

export function loadNotionImportConfig(env: Env = process.env, opts: { api: boolean } = { api: false }): NotionImportConfig {
  const r = new EnvReader(env);
  const memoryApiToken = r.optional("MEMORY_API_TOKEN");
  if (memoryApiToken === undefined) r.problems.push("MEMORY_API_TOKEN is required (mint one with `bun run token -- --sub USER`)");
  const notionToken = r.optional("NOTION_TOKEN");
  if (opts.api && notionToken === undefined) r.problems.push("NOTION_TOKEN is required with --api (the integration's secret from notion.so/my-integrations)");
  const notionApiUrl = r.optional("NOTION_API_URL");
  const config: NotionImportConfig = {
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryApiToken: memoryApiToken ?? "",
    notionToken,
    notionApiUrl: notionApiUrl === undefined ? undefined : r.url("NOTION_API_URL", notionApiUrl, ["http:", "https:"]),
    notionRequestsPerSecond: r.int("NOTION_REQUESTS_PER_SECOND", 3, 1, 100),
    notionMaxRetries: r.int("NOTION_MAX_RETRIES", 5, 0, 20),
    chunkChars: r.int("NOTION_CHUNK_CHARS", 1000, 200, 20_000),
    batchSize: r.int("NOTION_BATCH_SIZE", 1000, 1, 1000),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
