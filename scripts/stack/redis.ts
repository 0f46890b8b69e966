// Redis from Debian (redis-server 7.0), 127.0.0.1 only, data in .stack/redis/data. Runs as
// the `redis` system user the package creates (as ourselves when not root). A password is
// required (`requirepass`): STACK_REDIS_PASSWORD, or one generated at the first start and kept in
// .stack/redis/password (0600); `stack env` puts it into REDIS_URL.
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
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
const passwordFile = join(dir, "password");

/** The configured or saved password; undefined for a stack started before passwords existed. */
function savedPassword(): string | undefined {
  if (cfg.password) return cfg.password;
  return existsSync(passwordFile) ? readFileSync(passwordFile, "utf8").trim() || undefined : undefined;
}

function ensurePassword(): string {
  const known = savedPassword();
  if (known) return known;
  ensureDir(dir);
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
  writeFileSync(passwordFile, generated + "\n", { mode: 0o600 });
  return generated;
}

const user = () => (isRoot() && userIds("redis") ? "redis" : null);

const redisConf = (password: string) => `# written by scripts/stack/redis.ts (rewritten at every start; 0600, it holds the password)
bind ${HOST}
protected-mode yes
port ${cfg.port}
requirepass ${password}
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
    const u = user();
    writeFileSync(confFile, redisConf(ensurePassword()), { mode: 0o600 });
    chmodSync(confFile, 0o600);
    const ids = u ? userIds(u) : null;
    if (ids) chownSync(confFile, ids.uid, ids.gid); // read by redis-server as that user
    const prefix = asUser(u);
    const cmd = [...prefix, BIN, confFile];
    return startDetached({ cmd: cmd[0]!, args: cmd.slice(1), cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  // AUTH first (a Redis without a password answers it with an error, then PONG all the same)
  probe: () => {
    const password = savedPassword();
    const auth = password ? `AUTH ${password}\r\n` : "";
    return tcpProbe(HOST, cfg.port, `${auth}PING\r\n`, (r) => r.toString().includes("+PONG"));
  },
};

export const redisUrl = () => serviceUrls.redis(HOST, cfg.port, savedPassword());
