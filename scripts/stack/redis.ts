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
export function savedPassword(): string | undefined {
  if (cfg.password) return cfg.password;
  return existsSync(passwordFile) ? readFileSync(passwordFile, "utf8").trim() || undefined : undefined;
}

/** The stack's Redis password (the cluster nodes and the Sentinel use it too), generated at the first start. */
export function ensurePassword(): string {
  const known = savedPassword();
  if (known) return known;
  ensureDir(dir);
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
  writeFileSync(passwordFile, generated + "\n", { mode: 0o600 });
  return generated;
}

/** The OS user the stack's Redis processes run as: the package's `redis` user when we are root. */
export const redisUser = () => (isRoot() && userIds("redis") ? "redis" : null);
const user = redisUser;

/** A redis-server config for the stack: loopback, a password, RDB snapshots, LRU eviction of TTL keys. */
export const redisServerConf = (o: { port: number; password: string; dataDir: string; maxmemory: string; extra?: string }) => `# written by scripts/stack (rewritten at every start; 0600, it holds the password)
bind ${HOST}
protected-mode yes
port ${o.port}
requirepass ${o.password}
daemonize no
supervised no
# the stack keeps its own pidfile; logs go to stdout -> the service's log
logfile ""
loglevel notice
dir ${o.dataDir}
dbfilename dump.rdb
# RDB snapshots (and one at shutdown) persist the data; no AOF
save 3600 1 300 100 60 10000
appendonly no
tcp-backlog 511
timeout 0
tcp-keepalive 300
maxclients 10000
# a cache and rate-limit store: evict least-recently-used keys with a TTL under pressure
maxmemory ${o.maxmemory}
maxmemory-policy volatile-lru
${o.extra ?? ""}`;

/** Writes a 0600 config that only `redisUser()` (or we) can read, and starts redis-server on it. */
export function launchRedis(o: { confFile: string; conf: string; cwd: string; logFile: string; pidFile: string; flags?: string[] }): Promise<number> {
  const u = redisUser();
  writeFileSync(o.confFile, o.conf, { mode: 0o600 });
  chmodSync(o.confFile, 0o600);
  const ids = u ? userIds(u) : null;
  if (ids) chownSync(o.confFile, ids.uid, ids.gid); // read (and, by a Sentinel, rewritten) as that user
  const cmd = [...asUser(u), BIN, o.confFile, ...(o.flags ?? [])];
  return startDetached({ cmd: cmd[0]!, args: cmd.slice(1), cwd: o.cwd, logFile: o.logFile, pidFile: o.pidFile });
}

/** AUTH first (a Redis without a password answers it with an error, then PONG all the same). */
export function redisProbe(port: number): Promise<boolean> {
  const password = savedPassword();
  const auth = password ? `AUTH ${password}\r\n` : "";
  return tcpProbe(HOST, port, `${auth}PING\r\n`, (r) => r.toString().includes("+PONG"));
}

export const REDIS_BIN = BIN;

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

  launch() {
    const conf = redisServerConf({ port: cfg.port, password: ensurePassword(), dataDir, maxmemory: "1gb" });
    return launchRedis({ confFile, conf, cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: () => redisProbe(cfg.port),
};

export const redisUrl = () => serviceUrls.redis(HOST, cfg.port, savedPassword());
