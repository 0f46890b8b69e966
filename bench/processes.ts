/**
 * The processes the bench starts itself, each tracked by its pid and stopped by it (never by
 * name): the hello baselines, a second nginx in front of them, the API cluster.
 */
import { createWriteStream, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ROOT } from "./oha";

export const BENCH_DIR = join(ROOT, ".stack", "bench");
export const NGINX_PREFIX = join(ROOT, ".stack", "bench-nginx");
const NGINX_BIN = "/usr/sbin/nginx";

export interface Child {
  name: string;
  proc: Subprocess;
  /** how to stop it (default SIGTERM) and how long to wait before SIGKILL */
  signal?: NodeJS.Signals;
  graceMs?: number;
}

const children: Child[] = [];

export function spawnLogged(name: string, cmd: string[], opts: { env?: Record<string, string | undefined>; cwd?: string }): Child {
  mkdirSync(BENCH_DIR, { recursive: true });
  const logPath = join(BENCH_DIR, `${name}.log`);
  const log = createWriteStream(logPath, { flags: "w" });
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      for await (const chunk of stream as ReadableStream<Uint8Array>) log.write(chunk);
    })();
  }
  const child: Child = { name, proc };
  children.push(child);
  return child;
}

/** Stops one child (its signal, then SIGKILL after the grace period) and waits for it. */
export async function stopChild(child: Child): Promise<void> {
  const i = children.indexOf(child);
  if (i >= 0) children.splice(i, 1);
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill(child.signal ?? "SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), child.graceMs ?? 10_000);
  await child.proc.exited;
  clearTimeout(timer);
}

/** Stops everything still running, newest first. */
export async function stopAll(): Promise<void> {
  for (const child of [...children].reverse()) await stopChild(child);
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function waitHttp(url: string, timeoutMs: number, ok = (s: number) => s === 200, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}); see ${join(BENCH_DIR, `${child.name}.log`)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${res.status}`;
      await res.arrayBuffer();
      if (ok(res.status)) return;
    } catch (e) {
      last = String((e as Error).message ?? e);
    }
    await Bun.sleep(250);
  }
  throw new Error(`${url} not ready after ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
}

/** The hello-world baseline on `port`. */
export async function startHello(port: number): Promise<Child> {
  const child = spawnLogged(`hello-${port}`, [process.execPath, "run", join(import.meta.dir, "hello.ts"), String(port)], {
    env: process.env,
  });
  await waitHttp(`http://127.0.0.1:${port}/`, 15_000, undefined, child);
  return child;
}

/**
 * A second nginx from the repository's nginx.conf (a symlink, so the config measured is the
 * one deployed), with its own includes: listen on `port`, upstreams `upstreams`.
 */
export async function startBenchNginx(port: number, upstreams: number[]): Promise<Child> {
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} is missing (the stack installs it: bun run scripts/stack.ts up)`);
  mkdirSync(NGINX_PREFIX, { recursive: true });
  writeFileSync(join(NGINX_PREFIX, "listen.conf"), `# written by bench/processes.ts\nlisten 127.0.0.1:${port} backlog=4096;\n`);
  writeFileSync(
    join(NGINX_PREFIX, "upstream-servers.conf"),
    `# written by bench/processes.ts\n${upstreams.map((p) => `server 127.0.0.1:${p} max_fails=3 fail_timeout=5s;`).join("\n")}\n`,
  );
  const link = join(NGINX_PREFIX, "nginx.conf");
  const target = join(ROOT, "nginx.conf");
  let current: string | null = null;
  try {
    if (lstatSync(link).isSymbolicLink()) current = readlinkSync(link);
  } catch {}
  if (current !== target) {
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  const args = ["-p", `${NGINX_PREFIX}/`, "-c", link, "-e", "stderr"];
  const test = Bun.spawnSync([NGINX_BIN, ...args, "-t", "-q"]);
  if (test.exitCode !== 0) throw new Error(`bench nginx: nginx -t failed: ${test.stderr.toString()}`);
  const child = spawnLogged("bench-nginx", [NGINX_BIN, ...args, "-g", "daemon off;"], { env: process.env });
  child.graceMs = 15_000;
  await waitHttp(`http://127.0.0.1:${port}/nginx-health`, 15_000, undefined, child);
  return child;
}

/**
 * `bun run cluster` (src/cluster.ts) with `env`; resolves once every worker and nginx answer /ready.
 * Its output goes to `.stack/bench/<logName>.log` (default "cluster"; a restarted cluster gets its own).
 */
export async function startCluster(opts: {
  env: Record<string, string | undefined>;
  logName?: string;
  ports: number[];
  nginxUrl: string;
  timeoutMs?: number;
  progress?: (line: string) => void;
}): Promise<Child> {
  const child = spawnLogged(opts.logName ?? "cluster", [process.execPath, "run", join(ROOT, "src", "cluster.ts")], { env: opts.env });
  child.graceMs = 40_000; // the supervisor drains its workers (30 s at most) before exiting
  const began = Date.now();
  const timeout = opts.timeoutMs ?? 240_000;
  try {
    for (const port of opts.ports) {
      await waitHttp(`http://127.0.0.1:${port}/ready`, timeout - (Date.now() - began), undefined, child);
      opts.progress?.(`  worker :${port} ready after ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    // nginx may still hold a worker as failed (max_fails/fail_timeout) from before it was up
    await waitHttp(`${opts.nginxUrl}/ready`, 30_000, undefined, child);
  } catch (error) {
    await stopChild(child); // a cluster that never got ready must not keep its ports
    throw error;
  }
  return child;
}
