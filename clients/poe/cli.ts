/**
 * `bun run poe-bot`: serves the Poe server bot (POE_BOT_PORT, 8080) answering from the Memory API.
 * Configured by environment variables (see loadPoeBotConfig in clients/poe/config.ts).
 */
import { ConfigError } from "../../src/env-reader";
import { createLogger } from "../../src/log";
import { MemoryApiError, MemoryClient } from "../typescript/memory-client";
import { buildPoeBot } from "./bot";
import { loadPoeBotConfig } from "./config";

const USAGE = `usage: bun run poe-bot
  Serves a Poe server bot (Poe's server-bot protocol) that answers from a Memory API collection.

  env: POE_ACCESS_KEY (required; the access key shown on the bot's page on poe.com)
       POE_MEMORY_TOKEN (required; bun run token -- --sub USER --days 30 --long)
       POE_COLLECTION_ID (required; the collection to answer from)
       MEMORY_API_URL (http://127.0.0.1:8000), POE_BOT_HOST (127.0.0.1), POE_BOT_PORT (8080),
       POE_TOP_K (3), POE_RERANK (auto | on | off), POE_MIN_SIMILARITY (0.3),
       POE_SEARCH_TIMEOUT_MS (15000), POE_INTRODUCTION, LOG_LEVEL (info)`;

const fail = (message: string): never => {
  console.error(`poe-bot: ${message}`);
  process.exit(2);
};

const args = process.argv.slice(2).filter((a) => a !== "--");
if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
if (args.length > 0) fail(`unexpected argument ${args[0]}: the bot is configured by environment variables\n${USAGE}`);

let config;
try {
  config = loadPoeBotConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`${error.message}\n${USAGE}`);
  throw error;
}
const log = createLogger(config.logLevel).child({ service: "poe-bot" });
const client = new MemoryClient({ baseUrl: config.memoryApiUrl, token: config.memoryToken, timeoutMs: config.searchTimeoutMs, retries: 0 });
const bot = buildPoeBot({ config, client, log });
const listen = () => {
  try {
    return Bun.serve({ hostname: config.host, port: config.port, fetch: (request: Request) => bot.handle(request) });
  } catch (error) {
    return fail(`cannot listen on ${config.host}:${config.port} (${(error as Error).message}); set POE_BOT_HOST / POE_BOT_PORT`);
  }
};
const server = listen();
log.info(`Poe bot listening on http://${config.host}:${server.port}`, { memory_api: config.memoryApiUrl, collection: config.collectionId });

// a misconfiguration is said at start-up, not first discovered by a user; the bot serves anyway
// (the Memory API may come up later, and each answer then says what is wrong)
client.getCollection(config.collectionId).then(
  () => log.info("Memory API reachable; the collection answers for this token"),
  (error: unknown) => {
    if (!(error instanceof MemoryApiError)) return log.warn("cannot check the Memory API at start-up", { error: (error as Error).message });
    const hint =
      error.status === 401
        ? "POE_MEMORY_TOKEN is refused (expired, revoked or signed with another JWT_SECRET)"
        : error.status === 404
          ? "POE_COLLECTION_ID is not a collection of this token's user"
          : error.status === 0
            ? "the Memory API is unreachable at MEMORY_API_URL"
            : "the Memory API answered with an error";
    log.warn(`start-up check failed: ${hint}`, { status: error.status, code: error.code });
  },
);

const stop = () => {
  server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
