import Redis, { Cluster, type RedisOptions } from "ioredis";
import type { RedisTopology } from "../../config";
import type { Logger } from "../../log";

/** One server, a master found through Sentinel, or a Redis Cluster: the commands the stores use are the same. */
export type RedisClient = Redis | Cluster;

/**
 * Commands fail at once while disconnected (no offline queue, one retry), so a dead Redis is a
 * cache bypass, not a hang; the client reconnects in the background with capped backoff.
 * Auto-pipelining batches the commands of concurrent requests into one round trip (per node in a
 * cluster).
 */
const failFast = {
  lazyConnect: true,
  enableAutoPipelining: true,
  enableOfflineQueue: false,
} as const;

const perConnection = {
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 500,
} as const;

const backoff = (attempt: number) => Math.min(50 * 2 ** attempt, 2000);

/** User, password and TLS, from REDIS_URL: the only part of it a cluster or Sentinel deployment uses. */
function credentials(url: string): Pick<RedisOptions, "username" | "password" | "tls"> {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

function open(topology: RedisTopology): RedisClient {
  switch (topology.kind) {
    case "single":
      return new Redis(topology.url, { ...failFast, ...perConnection, retryStrategy: backoff });
    case "sentinel":
      return new Redis({
        ...failFast,
        ...perConnection,
        ...credentials(topology.url),
        sentinels: topology.sentinels,
        name: topology.master,
        role: "master",
        ...(topology.sentinelPassword === undefined ? {} : { sentinelPassword: topology.sentinelPassword }),
        retryStrategy: backoff,
        // a few rounds over the Sentinels, then this attempt fails (and retryStrategy tries again
        // later): an unknown master name or unreachable Sentinels must not hang a worker's start
        sentinelRetryStrategy: (round: number) => (round > 3 ? null : backoff(round)),
      });
    case "cluster":
      return new Cluster(topology.nodes, {
        ...failFast,
        redisOptions: { ...perConnection, ...credentials(topology.url) },
        clusterRetryStrategy: backoff,
        slotsRefreshTimeout: 1000,
      });
  }
}

/** A client for the configured topology (a URL = one server), tuned for a cache that must never slow the API down. */
export function createRedisClient(url: string, log: Logger): Redis;
export function createRedisClient(target: RedisTopology | string, log: Logger): RedisClient;
export function createRedisClient(target: RedisTopology | string, log: Logger): RedisClient {
  const topology: RedisTopology = typeof target === "string" ? { kind: "single", url: target } : target;
  const client = open(topology);
  let down = false;
  client.on("error", (error) => {
    if (!down) log.warn("redis connection error; the cache is bypassed until it is back", { error: String(error), topology: topology.kind });
    down = true;
  });
  client.on("ready", () => {
    if (down) log.info("redis is back");
    down = false;
  });
  return client;
}
