/**
 * The bot's settings, from the environment: where it listens, its Poe access key, and the Memory
 * API collection it answers from. Throws a ConfigError naming each bad variable.
 */
import { ConfigError, EnvReader, type Env } from "../../src/env-reader";
import type { LogLevel } from "../../src/log";

export interface PoeBotConfig {
  host: string;
  port: number;
  /** The bot's access key from Poe: every request must carry it as `Authorization: Bearer`. */
  accessKey: string;
  memoryApiUrl: string;
  /** The Memory API token the bot searches with (a long-lived one: `bun run token -- --days 30 --long`). */
  memoryToken: string;
  collectionId: string;
  topK: number;
  /** `auto` reranks when the token's tier is premium (pro, enterprise). */
  rerank: "auto" | "on" | "off";
  /** Memories less similar than this (cosine, 0..1) to the question count as not relevant. */
  minSimilarity: number;
  searchTimeoutMs: number;
  introduction: string;
  logLevel: LogLevel;
}

export function loadPoeBotConfig(env: Env = process.env): PoeBotConfig {
  const r = new EnvReader(env);
  const required = (name: string, hint: string) => {
    const value = r.optional(name);
    if (value === undefined) r.problems.push(`${name} is required (${hint})`);
    return value ?? "";
  };
  const accessKey = required("POE_ACCESS_KEY", "the bot's access key from its page on poe.com");
  const memoryToken = required("POE_MEMORY_TOKEN", "a Memory API token: `bun run token -- --sub USER --days 30 --long`");
  const collectionId = required("POE_COLLECTION_ID", "the id of the collection the bot answers from");
  const minSimilarityRaw = r.string("POE_MIN_SIMILARITY", "0.3");
  const minSimilarity = Number(minSimilarityRaw);
  if (!/^\d*\.?\d+$/.test(minSimilarityRaw) || minSimilarity > 1) {
    r.problems.push(`POE_MIN_SIMILARITY must be a number between 0 and 1, got "${minSimilarityRaw}"`);
  }
  const config: PoeBotConfig = {
    host: r.string("POE_BOT_HOST", "127.0.0.1"),
    port: r.int("POE_BOT_PORT", 8080, 0, 65535),
    accessKey,
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryToken,
    collectionId,
    topK: r.int("POE_TOP_K", 3, 1, 10),
    rerank: r.oneOf("POE_RERANK", "auto", ["auto", "on", "off"] as const),
    minSimilarity,
    searchTimeoutMs: r.int("POE_SEARCH_TIMEOUT_MS", 15_000, 100, 600_000),
    introduction: r.string("POE_INTRODUCTION", "Ask me about anything stored in your memories; I answer with quotes and their sources."),
    logLevel: r.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
