import Redis from "ioredis";
import type { Logger } from "../../log";

/**
 * An ioredis client tuned for a cache that must never slow the API down: commands fail at
 * once while disconnected (no offline queue, one retry), so a dead Redis is a cache bypass,
 * not a hang; it reconnects in the background with capped backoff. Auto-pipelining batches
 * the commands of concurrent requests into one round trip.
 */
export function createRedisClient(url: string, log: Logger): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
  let down = false;
  client.on("error", (error) => {
    if (!down) log.warn("redis connection error; the cache is bypassed until it is back", { error: String(error) });
    down = true;
  });
  client.on("ready", () => {
    if (down) log.info("redis is back");
    down = false;
  });
  return client;
}
