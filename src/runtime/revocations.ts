import { join } from "node:path";
import type { RedisClient } from "../stores/redis/client";
import type { Config } from "../config";
import type { Logger } from "../log";
import type { RevocationStore } from "../ports/revocation-store";
import type { TokenPolicy } from "../auth/token-policy";
import { RevocationList } from "../auth/revocation-list";
import { SqliteRevocationStore } from "../stores/embedded/revocations";

export const tokenPolicy = (config: Config): TokenPolicy => ({
  maxAgeSeconds: config.tokens.maxAgeSeconds,
  clockSkewSeconds: config.tokens.clockSkewSeconds,
  ...(config.tokens.issuer === undefined ? {} : { issuer: config.tokens.issuer }),
  ...(config.tokens.audience === undefined ? {} : { audience: config.tokens.audience }),
});

/**
 * The mode's revocation store: Redis (the given client, or one of its own) in production, the
 * SQLite file DATA_DIR/revocations.db in embedded mode. `close` closes only what it opened.
 */
export async function openRevocationStore(
  config: Config,
  log: Logger,
  redis?: RedisClient,
): Promise<{ store: RevocationStore; close(): Promise<void> }> {
  if (config.mode === "embedded") {
    const store = new SqliteRevocationStore(join(config.dataDir, "revocations.db"));
    return { store, close: () => store.close() };
  }
  const [{ RedisRevocationStore }, { createRedisClient }] = await Promise.all([
    import("../stores/redis/revocations"),
    import("../stores/redis/client"),
  ]);
  if (redis) return { store: new RedisRevocationStore(redis), close: async () => {} };
  const own = createRedisClient(config.production.redis, log);
  await own.connect();
  return { store: new RedisRevocationStore(own), close: async () => own.disconnect() };
}

/** The worker's revocation list, loaded before the first request and refreshed in the background. */
export async function startRevocationList(store: RevocationStore, config: Config, log: Logger): Promise<RevocationList> {
  return new RevocationList(store, { refreshMs: config.tokens.revocationRefreshMs, log }).start();
}

/** How long a revocation must be kept: as long as a token it revokes could still be valid. */
export const revocationRetentionMs = (config: Config) => (config.tokens.maxAgeSeconds + config.tokens.clockSkewSeconds) * 1000;
