// Redis from Debian (redis-server 7.0), 127.0.0.1 only, data in .stack/redis/data. Runs as
// the `redis` system user the package creates (as ourselves when not root).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serviceUrls } from "../../src/config.ts";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { asUser, ensureDir, isRoot, startDetached, tcpProbe, userIds } from "./process.ts";

const cfg = config.redis;
const dir = join(config.stackDir, "redis");
const dataDir = join(dir, "data");
const confFile = join(dir, "redis.conf");
const BIN = "/usr/bin/redis-server";

const user = () => (isRoot() && userIds("redis") ? "redis" : null);

const redisConf = () => `# written by scripts/stack/redis.ts (rewritten at every start)
bind ${HOST}
protected-mode yes
port ${cfg.port}
daemonize no
supervised no
# the stack keeps its own pidfile (${join(dir, "redis.pid")}); logs go to stdout -> redis.log
logfile ""
loglevel notice
dir ${dataDir}
dbfilename dump.rdb
# RDB snapshots (and one at shutdown) persist the data; no AOF
save 3600 1 300 100 60 10000
appendonly no
tcp-backlog 511
timeout 0
tcp-keepalive 300
maxclients 10000
# a cache and rate-limit store: evict least-recently-used keys with a TTL under pressure
maxmemory 1gb
maxmemory-policy volatile-lru
`;

export const redis: Service = {
  name: "redis",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port],
  pidFile: join(dir, "redis.pid"),
  logFile: join(dir, "redis.log"),
  match: "redis-server",
  stopSignal: "SIGTERM", // Redis saves a final snapshot and exits
  stopTimeoutMs: 30_000,
  startTimeoutMs: config.startTimeoutS * 1000,

  apt: () => [{ pkg: "redis-server", present: () => existsSync(BIN) }],

  async install() {
    const u = user();
    ensureDir(dir);
    ensureDir(dataDir, u ? userIds(u) : null, 0o750);
  },

  async launch() {
    writeFileSync(confFile, redisConf());
    const prefix = asUser(user());
    const cmd = [...prefix, BIN, confFile];
    return startDetached({ cmd: cmd[0]!, args: cmd.slice(1), cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: () => tcpProbe(HOST, cfg.port, "PING\r\n", (r) => r.toString().startsWith("+PONG")),
};

export const redisUrl = () => serviceUrls.redis(HOST, cfg.port);
