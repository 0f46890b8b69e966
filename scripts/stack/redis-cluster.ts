// A Redis Cluster of three masters (Debian's redis-server 7.0 in cluster mode, no replicas), on
// STACK_REDIS_CLUSTER_PORTS (7001-7003; their cluster bus on port + 10000), with the stack's
// Redis password. The API does not use it unless REDIS_CLUSTER_NODES names it; the cluster-mode
// tests and the two-host bench do. Each node is a service of its own (pidfile, log); the first
// start of all three creates the cluster (`redis-cli --cluster create`), later starts find it in
// each node's nodes.conf.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import { StackError, ensureDir, say, sleep, userIds } from "./process.ts";
import { REDIS_BIN, ensurePassword, launchRedis, redisProbe, redisServerConf, redisUser, savedPassword } from "./redis.ts";
import type { Service } from "./service.ts";

const ports = config.redis.clusterPorts;
const dir = join(config.stackDir, "redis-cluster");
const CLI = "/usr/bin/redis-cli";

/** `host:port,…` as REDIS_CLUSTER_NODES takes it. */
export const redisClusterNodes = () => ports.map((p) => `${HOST}:${p}`).join(",");

function cli(port: number, args: string[]): { ok: boolean; out: string } {
  const password = savedPassword();
  const r = spawnSync(CLI, ["-h", HOST, "-p", String(port), ...(password ? ["--no-auth-warning", "-a", password] : []), ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

const info = (port: number) => Object.fromEntries(cli(port, ["cluster", "info"]).out.split(/\r?\n/).map((l) => l.split(":") as [string, string]));

async function waitFor(what: string, test: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > until) throw new StackError(`redis-cluster: ${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

let forming: Promise<void> | undefined;

/** Once every node answers: creates the cluster unless its slots are assigned already, then waits for state ok. */
function formCluster(): Promise<void> {
  forming ??= (async () => {
    await waitFor("every node answering", async () => (await Promise.all(ports.map(redisProbe))).every(Boolean), config.startTimeoutS * 1000);
    if (ports.every((p) => info(p).cluster_slots_assigned === "0")) {
      say("redis-cluster", `creating a cluster of ${ports.length} masters on ${redisClusterNodes()}`);
      const r = cli(ports[0]!, ["--cluster", "create", ...ports.map((p) => `${HOST}:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
      if (!r.ok) throw new StackError(`redis-cluster: --cluster create failed:\n${r.out}`);
    }
    await waitFor("cluster_state:ok on every node", () => ports.every((p) => info(p).cluster_state === "ok"), 30_000);
  })();
  return forming;
}

function node(index: number): Service {
  const port = ports[index]!;
  const nodeDir = join(dir, String(port));
  const dataDir = join(nodeDir, "data");
  return {
    name: `redis-cluster-${index + 1}`,
    address: `${HOST}:${port}`,
    ports: [port, port + 10_000],
    pidFile: join(nodeDir, "redis.pid"),
    logFile: join(nodeDir, "redis.log"),
    match: "redis-server",
    stopSignal: "SIGTERM",
    stopTimeoutMs: 30_000,
    startTimeoutMs: config.startTimeoutS * 1000,
    apt: () => [
      { pkg: "redis-server", present: () => existsSync(REDIS_BIN) },
      { pkg: "redis-tools", present: () => existsSync(CLI) },
    ],
    async install() {
      if (ports.length < 3) throw new StackError(`STACK_REDIS_CLUSTER_PORTS names ${ports.length} ports; a Redis Cluster needs 3 masters`);
      const u = redisUser();
      ensureDir(nodeDir);
      ensureDir(dataDir, u ? userIds(u) : null, 0o750);
    },
    launch() {
      const password = ensurePassword();
      const conf = redisServerConf({
        port,
        password,
        dataDir,
        maxmemory: "256mb",
        extra: `cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
# the other nodes ask with the same password
masterauth ${password}
`,
      });
      return launchRedis({ confFile: join(nodeDir, "redis.conf"), conf, cwd: nodeDir, logFile: this.logFile, pidFile: this.pidFile });
    },
    probe: () => redisProbe(port),
    afterReady: formCluster,
  };
}

export const redisClusterNodesServices: Service[] = ports.map((_, i) => node(i));
