/**
 * `bun run poe-bot`: serves the Poe server bot (POE_BOT_PORT, 8080) answering from the Memory API.
 * Configured by environment variables (see loadPoeBotConfig in src/config.ts).
 */
import { ConfigError, loadPoeBotConfig } from "../../config";
import { createLogger } from "../../log";
import { MemoryClient } from "../memory-client";
import { buildPoeBot } from "./bot";

let config;
try {
  config = loadPoeBotConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`poe-bot: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
const log = createLogger(config.logLevel).child({ service: "poe-bot" });
const client = new MemoryClient({ baseUrl: config.memoryApiUrl, token: config.memoryToken, timeoutMs: config.searchTimeoutMs, retries: 0 });
const bot = buildPoeBot({ config, client, log });
const server = Bun.serve({ hostname: config.host, port: config.port, fetch: (request) => bot.handle(request) });
log.info(`Poe bot listening on http://${config.host}:${server.port}`, { memory_api: config.memoryApiUrl, collection: config.collectionId });

const stop = () => {
  server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
