#!/usr/bin/env bun
// The real services of Memory API, without Docker: installs what is missing and runs
// PostgreSQL, Redis, Milvus, Neo4j and nginx on loopback, all state under .stack/.
//
//   bun run scripts/stack.ts up [svc...]        install what is missing, start, wait, print the table
//   bun run scripts/stack.ts down [svc...]      stop what the stack started (by pidfile)
//   bun run scripts/stack.ts start|stop|restart <svc...>
//   bun run scripts/stack.ts status             up/down per service, with address and pid (exit 3 unless all up)
//   bun run scripts/stack.ts logs [svc] [-f] [-n N]
//   bun run scripts/stack.ts env                the API's environment for this stack (eval-able)
//   bun run scripts/stack.ts check [svc...]     exercise each service with the project's client
//   bun run scripts/stack.ts reload nginx       re-read nginx.conf and the upstream list (SIGHUP)
//
// Services: postgres, postgres-replica (a streaming standby of postgres), redis, redis-sentinel,
// redis-cluster-1..3, kafka (Milvus' message queue), milvus, milvus-querynode (a second query node:
// two replicas), neo4j, nginx. Ports: STACK_*_PORT (scripts/stack/config.ts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensurePackages } from "./stack/apt.ts";
import { stackConnections } from "./stack/connections.ts";
import { config } from "./stack/config.ts";
import { milvus } from "./stack/milvus.ts";
import { milvusQueryNode } from "./stack/milvus-querynode.ts";
import { kafka } from "./stack/kafka.ts";
import { neo4j } from "./stack/neo4j.ts";
import { nginx, reloadNginx } from "./stack/nginx.ts";
import { postgres } from "./stack/postgres.ts";
import { postgresReplica } from "./stack/postgres-replica.ts";
import { StackError, dim, green, red, runningPid, say, withLock, yellow } from "./stack/process.ts";
import { redis } from "./stack/redis.ts";
import { redisClusterNodesServices } from "./stack/redis-cluster.ts";
import { redisSentinel } from "./stack/redis-sentinel.ts";
import { health, startService, stopService, type Service, type UpResult } from "./stack/service.ts";

/** start order; stopped in reverse (nginx first, the stores last) */
const ALL: Service[] = [postgres, postgresReplica, redis, redisSentinel, ...redisClusterNodesServices, kafka, milvus, milvusQueryNode, neo4j, nginx];
const byName = new Map(ALL.map((s) => [s.name, s]));

function pick(names: string[], all: boolean): Service[] {
  if (names.length === 0) {
    if (all) return ALL;
    throw new StackError(`name at least one service: ${ALL.map((s) => s.name).join(", ")}`);
  }
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) throw new StackError(`unknown service ${unknown.join(", ")}; services: ${ALL.map((s) => s.name).join(", ")}`);
  // a named service brings the services that are part of it (stop, start and restart together)
  return ALL.filter((s) => names.includes(s.name) || (s.partOf !== undefined && names.includes(s.partOf.name)));
}

type Row = { service: string; address: string; pid: string; status: string };

function table(rows: Row[]): void {
  const cols = ["service", "address", "pid", "status"] as const;
  const width = (c: (typeof cols)[number]) => Math.max(c.length, ...rows.map((r) => r[c].length));
  const line = (r: Record<(typeof cols)[number], string>, color = (s: string) => s) =>
    cols.map((c) => (c === "status" ? color(r[c]) : r[c].padEnd(width(c)))).join("  ");
  console.log("");
  console.log(line({ service: "service", address: "address", pid: "pid", status: "status" }, dim));
  for (const r of rows) {
    const color = r.status.startsWith("up") ? green : r.status === "down" ? dim : r.status.startsWith("FAILED") ? red : yellow;
    console.log(line(r, color));
  }
}

async function statusRows(services: Service[]): Promise<Row[]> {
  return Promise.all(
    services.map(async (s) => {
      const h = await health(s);
      return { service: s.name, address: s.address, pid: h.pid ? String(h.pid) : "-", status: h.status };
    }),
  );
}

/** `dep` is not being started by this `up`: it must already answer. */
async function answering(dep: Service, by: Service): Promise<UpResult> {
  if (!(await dep.probe())) throw new StackError(`${by.name} needs ${dep.name}, which is not answering: start it first (stack up ${dep.name})`);
  return { pid: runningPid(dep.pidFile, dep.match) ?? 0, state: "already running" };
}

async function up(services: Service[]): Promise<boolean> {
  const t0 = Date.now();
  const notRunning = services.filter((s) => runningPid(s.pidFile, s.match) === null);
  await ensurePackages(notRunning.flatMap((s) => s.apt()));
  // installs (venv, Maven build, initdb) and starts run side by side: Milvus and Neo4j take
  // the longest to come up, and they do not depend on each other
  const started = new Map<Service, Promise<UpResult>>();
  const start = (s: Service): Promise<UpResult> => {
    let promise = started.get(s);
    if (promise === undefined) {
      promise = (async () => {
        const installing = notRunning.includes(s) ? s.install() : Promise.resolve();
        await Promise.all([installing, ...(s.after ?? []).map((dep) => (services.includes(dep) ? start(dep) : answering(dep, s)))]);
        return startService(s);
      })();
      started.set(s, promise);
    }
    return promise;
  };
  const results = await Promise.allSettled(services.map(start));
  const rows: Row[] = services.map((s, i) => {
    const r = results[i]!;
    if (r.status === "fulfilled") return { service: s.name, address: s.address, pid: String(r.value.pid), status: `up (${r.value.state})` };
    return { service: s.name, address: s.address, pid: "-", status: "FAILED" };
  });
  let ok = true;
  results.forEach((r, i) => {
    if (r.status === "rejected") {
      ok = false;
      const e = r.reason;
      console.error(`\n${red(`[${services[i]!.name}] failed:`)} ${e instanceof Error ? e.message : String(e)}`);
      if (!(e instanceof StackError) && e instanceof Error && e.stack) console.error(dim(e.stack));
    }
  });
  table(rows);
  console.log(dim(`\n${ok ? "all up" : "some services failed"} in ${((Date.now() - t0) / 1000).toFixed(1)} s; state in ${config.stackDir}`));
  if (ok && services.length === ALL.length) console.log(dim("environment for the API: bun run scripts/stack.ts env"));
  return ok;
}

async function down(services: Service[]): Promise<void> {
  // nginx first, stores last; each waits for the previous so shutdowns do not fight for 2 cores
  for (const s of [...services].reverse()) await stopService(s);
}

function envLines(): string[] {
  return [
    "MEMORY_MODE=production",
    `PORT=${config.nginx.upstreams[0]}`,
    ...Object.entries(stackConnections()).map(([name, value]) => `${name}=${value}`),
    "NEO4J_USER=neo4j",
    "NEO4J_PASSWORD=unused # the stack's Neo4j has auth off and ignores it (compose.yaml takes NEO4J_PASSWORD from the environment)",
  ];
}

function logs(args: string[]): void {
  let follow = false;
  let lines = 50;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-f" || a === "--follow") follow = true;
    else if (a === "-n") lines = Number(args[++i]);
    else names.push(a);
  }
  const files = pick(names, true).flatMap((s) => [s.logFile, ...(names.length ? (s.extraLogs?.() ?? []) : [])]).filter((f) => existsSync(f));
  if (files.length === 0) {
    console.log("no logs yet");
    return;
  }
  spawnSync("tail", [`-n${lines}`, ...(follow ? ["-F"] : []), ...files], { stdio: "inherit" });
}

const USAGE = `usage: bun run scripts/stack.ts <command> [service...]
  up [svc...]            install what is missing, start, wait until each answers (default: all)
  down [svc...]          stop (SIGTERM, wait, SIGKILL) what the stack started (default: all)
  start <svc...>         start one or more services (same as up <svc...>)
  stop <svc...>          stop one or more services (same as down <svc...>)
  restart <svc...>       stop, then start
  status                 up/down, address and pid of each service
  logs [svc] [-f] [-n N] tail the logs (all, or one service with its extra logs)
  env                    the API's environment for this stack
  check [svc...]         exercise each running service with the project's own client
  reload nginx           re-read nginx.conf and the upstream list without a restart
services: ${ALL.map((s) => s.name).join(", ")}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const locked = (fn: () => Promise<number>) => withLock(config.stackDir, fn);
  switch (cmd) {
    case "up":
      return locked(async () => ((await up(pick(rest, true))) ? 0 : 1));
    case "start":
      return locked(async () => ((await up(pick(rest, false))) ? 0 : 1));
    case "down":
      return locked(async () => (await down(pick(rest, true)), 0));
    case "stop":
      return locked(async () => (await down(pick(rest, false)), 0));
    case "restart": {
      const s = pick(rest, false);
      return locked(async () => {
        await down(s);
        return (await up(s)) ? 0 : 1;
      });
    }
    case "status": {
      const rows = await statusRows(pick(rest, true));
      table(rows);
      return rows.every((r) => r.status === "up") ? 0 : 3;
    }
    case "logs":
      logs(rest);
      return 0;
    case "env":
      for (const l of envLines()) console.log(`export ${l.replace(/ #.*/, "")}`);
      return 0;
    case "check": {
      const { check } = await import("./stack/check.ts");
      return (await check(pick(rest, true).map((s) => s.name))) ? 0 : 1;
    }
    case "reload": {
      if (rest[0] !== "nginx") throw new StackError("only nginx can be reloaded: reload nginx");
      const pid = runningPid(nginx.pidFile, nginx.match);
      if (pid === null) throw new StackError("nginx is not running");
      reloadNginx(pid);
      say("nginx", `reloaded (SIGHUP to ${pid}); upstreams ${config.nginx.upstreams.join(", ")}`);
      return 0;
    }
    case undefined:
    case "help":
    case "-h":
    case "--help":
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${cmd}\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(red(e instanceof Error ? e.message : String(e)));
  if (!(e instanceof StackError) && e instanceof Error && e.stack) console.error(dim(e.stack));
  process.exitCode = 1;
}
