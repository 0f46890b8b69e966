// One Redis Sentinel (redis-server --sentinel) on STACK_REDIS_SENTINEL_PORT (26379) that monitors
// the stack's Redis as master "memory-api", with the stack's Redis password on both sides. It
// lets the tests open the API's Sentinel topology (REDIS_SENTINELS + REDIS_SENTINEL_MASTER): the
// client asks the Sentinel for the master, then talks to it. With one Redis and no replica there
// is nothing to fail over to; a deployment runs three Sentinels and replicas (docs/production.md).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import { ensureDir, userIds } from "./process.ts";
import { REDIS_BIN, ensurePassword, launchRedis, redisProbe, redisUser } from "./redis.ts";
import type { Service } from "./service.ts";

const cfg = config.redis;
const dir = join(config.stackDir, "redis-sentinel");

/** REDIS_SENTINELS for this stack. */
export const redisSentinels = () => `${HOST}:${cfg.sentinelPort}`;

export const redisSentinel: Service = {
  name: "redis-sentinel",
  address: `${HOST}:${cfg.sentinelPort}`,
  ports: [cfg.sentinelPort],
  pidFile: join(dir, "sentinel.pid"),
  logFile: join(dir, "sentinel.log"),
  match: "redis-server",
  stopSignal: "SIGTERM",
  stopTimeoutMs: 10_000,
  startTimeoutMs: config.startTimeoutS * 1000,
  apt: () => [{ pkg: "redis-server", present: () => existsSync(REDIS_BIN) }],

  async install() {
    const u = redisUser();
    ensureDir(dir, u ? userIds(u) : null, 0o750); // the Sentinel rewrites its config file in place
  },

  launch() {
    const password = ensurePassword();
    // written afresh at every start: what the Sentinel learnt (epochs, replicas) is rediscovered from the master
    const conf = `# written by scripts/stack/redis-sentinel.ts (rewritten at every start; 0600)
bind ${HOST}
port ${cfg.sentinelPort}
daemonize no
logfile ""
dir ${dir}
requirepass ${password}
sentinel resolve-hostnames no
sentinel monitor ${cfg.sentinelMaster} ${HOST} ${cfg.port} 1
sentinel auth-pass ${cfg.sentinelMaster} ${password}
sentinel down-after-milliseconds ${cfg.sentinelMaster} 5000
`;
    return launchRedis({ confFile: join(dir, "sentinel.conf"), conf, cwd: dir, logFile: this.logFile, pidFile: this.pidFile, flags: ["--sentinel"] });
  },

  probe: () => redisProbe(cfg.sentinelPort),
};
