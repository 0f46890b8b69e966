// Pidfiles, detached processes, waiting and probing: what every service module shares.
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- output

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);

export function say(svc: string, msg: string): void {
  console.log(`${dim(`[${svc}]`.padEnd(10))} ${msg}`);
}

export class StackError extends Error {}

// ---------------------------------------------------------------- pids

export function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function writePid(file: string, pid: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

export function removePid(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Alive = exists and is not a zombie. A detached service that exits is re-parented to
 * PID 1, and not every init reaps (a container's init may not): `kill -0` alone would
 * report such a zombie as running.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** the process's command line, to tell our service from an unrelated process that reused its pid */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/**
 * The pid in `pidFile` when that process is alive and its command line contains `match`;
 * otherwise null, and a stale pidfile is removed.
 */
export function runningPid(pidFile: string, match: string): number | null {
  const pid = readPid(pidFile);
  if (pid === null) return null;
  if (isAlive(pid) && cmdline(pid).includes(match)) return pid;
  removePid(pidFile);
  return null;
}

export interface DetachedSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string | undefined>;
  /** stdout and stderr are appended here */
  logFile: string;
  pidFile: string;
}

/**
 * Starts a process in its own session (it outlives this CLI and the terminal), output
 * appended to the log, pid written to the pidfile. The process must stay in the
 * foreground (no self-daemonising) so that the pid is the service itself.
 */
export async function startDetached(spec: DetachedSpec): Promise<number> {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, "a");
  writeFileSync(fd, `\n----- ${new Date().toISOString()} starting: ${spec.cmd} ${spec.args.join(" ")}\n`);
  try {
    const child = spawn(spec.cmd, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env } as Record<string, string>,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once("error", (e) => reject(new StackError(`cannot start ${spec.cmd}: ${e.message}`)));
      child.once("spawn", () => resolve(child.pid!));
    });
    child.unref();
    writePid(spec.pidFile, spawned);
    return spawned;
  } finally {
    closeSync(fd);
  }
}

/**
 * Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILL. Only ever the one
 * pid we started (never a name or a process group).
 */
export async function stopPid(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<"stopped" | "killed" | "gone"> {
  if (!isAlive(pid)) return "gone";
  try {
    process.kill(pid, signal);
  } catch {
    return "gone";
  }
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return "stopped";
    await sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return "stopped";
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  return "killed";
}

/**
 * One mutating stack command at a time (two `up`s racing would start a service twice).
 * A folder is the lock (mkdir is atomic); a lock whose holder died is taken over.
 */
export async function withLock<T>(stackDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(stackDir, ".lock");
  const pidFile = join(lock, "pid");
  mkdirSync(stackDir, { recursive: true });
  const until = Date.now() + 10 * 60_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(pidFile, `${process.pid}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = readPid(pidFile);
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((holder !== null && !isAlive(holder)) || (holder === null && age > 5000)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told) {
        say("stack", `waiting for another stack command to finish (pid ${holder ?? "?"})`);
        told = true;
      }
      if (Date.now() > until) throw new StackError(`another stack command (pid ${holder}) holds ${lock} for over 10 minutes`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- waiting & probes

export function tail(file: string, lines = 30): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, "r");
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    closeSync(fd);
    return buf.toString("utf8").split("\n").slice(-lines - 1).join("\n").trimEnd();
  } catch {
    return "(no log)";
  }
}

export interface WaitSpec {
  name: string;
  pid: number;
  logFile: string;
  timeoutMs: number;
  probe: () => Promise<boolean>;
}

/** Polls `probe` until it answers; fails early if the process exits, and shows the log tail. */
export async function waitReady(w: WaitSpec): Promise<void> {
  const started = Date.now();
  let delay = 100;
  while (Date.now() - started < w.timeoutMs) {
    if (await w.probe().catch(() => false)) return;
    if (!isAlive(w.pid)) {
      throw new StackError(`${w.name} (pid ${w.pid}) exited while starting. Last lines of ${w.logFile}:\n${tail(w.logFile)}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 1000);
  }
  throw new StackError(
    `${w.name} did not answer within ${Math.round(w.timeoutMs / 1000)} s (pid ${w.pid} ${isAlive(w.pid) ? "still running" : "exited"}). Last lines of ${w.logFile}:\n${tail(w.logFile)}`,
  );
}

/** TCP connect, optionally send bytes and check what comes back first. */
export function tcpProbe(host: string, port: number, send?: Uint8Array | string, expect?: (reply: Buffer) => boolean, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.once("error", () => finish(false));
    sock.once("connect", () => {
      if (send === undefined) return finish(true);
      let got = Buffer.alloc(0);
      sock.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (expect!(got)) finish(true);
      });
      sock.once("end", () => finish(false));
      sock.write(send);
    });
  });
}

export async function httpProbe(url: string, ok: (status: number, body: string) => boolean, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return ok(res.status, await res.text());
  } catch {
    return false;
  }
}

/** true when something already accepts connections on host:port */
export const portBusy = (host: string, port: number) => tcpProbe(host, port, undefined, undefined, 500);

// ---------------------------------------------------------------- commands

/** Runs a command to completion; throws with its output on a non-zero exit. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions & { quiet?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new StackError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new StackError(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}\n${out}`);
  }
  return String(r.stdout ?? "");
}

/** Same as run, output streamed to the terminal (long installs show progress). */
export async function runStreaming(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; prefix: string }): Promise<void> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } as Record<string, string>, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const onData = (d: Buffer) => {
    for (const line of d.toString("utf8").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split(/\r?\n|\r/)) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 200) lines.shift();
      say(opts.prefix, dim(line.length > 160 ? `${line.slice(0, 157)}...` : line));
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (e) => reject(new StackError(`${cmd}: ${e.message}`)));
    child.once("close", (c) => resolve(c));
  });
  if (code !== 0) throw new StackError(`${cmd} ${args.join(" ")} exited with ${code}\n${lines.slice(-30).join("\n")}`);
}

export function which(bin: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const isRoot = () => process.getuid?.() === 0;

/** uid/gid of a system user, or null */
export function userIds(name: string): { uid: number; gid: number } | null {
  const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
  if (r.status !== 0) return null;
  const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * Command prefix that runs the rest as `user` in the same process (setpriv execs, it does
 * not fork: the pid we record is the service's own). Empty when we are not root.
 */
export function asUser(user: string | null): string[] {
  if (!user || !isRoot()) return [];
  return ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--"];
}

export function ensureDir(path: string, owner?: { uid: number; gid: number } | null, mode?: number): void {
  mkdirSync(path, { recursive: true });
  if (owner && isRoot()) run("chown", ["-R", `${owner.uid}:${owner.gid}`, path]);
  if (mode !== undefined) run("chmod", [mode.toString(8), path]);
}

export { existsSync };
