// What the PostgreSQL primary (postgres.ts) and its streaming standby (postgres-replica.ts)
// share: Debian's PostgreSQL 15 binaries, run as the `postgres` system user when we are root
// (initdb refuses root), an admin socket per server, and a readiness probe.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import { asUser, isRoot, run, say, userIds } from "./process.ts";

export const pgBin = (name: string) => join(config.postgres.bin, name);

/** Unix socket folder of the server in `dir` (admin bootstrap, peer auth); a socket path must fit in 107 bytes. */
export function socketDir(dir: string, port: number): string {
  const inStack = join(dir, "run");
  if (`${inStack}/.s.PGSQL.${port}`.length <= 100) return inStack;
  return `/tmp/memory-stack-pg-${createHash("sha1").update(dir).digest("hex").slice(0, 10)}`;
}

/** the OS user postgres runs as: `postgres` when we are root (created if missing), else ourselves */
export function osUser(): string | null {
  if (!isRoot()) return null;
  if (!userIds("postgres")) {
    say("postgres", "creating the postgres system user");
    run("useradd", ["--system", "--user-group", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/bash", "postgres"]);
  }
  return "postgres";
}

/** `cmd args` as the PostgreSQL OS user. */
export function pgAsUser(cmd: string, args: string[]): { cmd: string; args: string[] } {
  const prefix = asUser(osUser());
  return prefix.length ? { cmd: prefix[0]!, args: [...prefix.slice(1), cmd, ...args] } : { cmd, args };
}

/** One statement as the `postgres` superuser over the server's admin socket; its output (tuples only). */
export function psqlAdmin(dir: string, port: number, sql: string, database = "postgres"): string {
  const c = pgAsUser(pgBin("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir(dir, port), "-p", String(port), "-U", "postgres", "-d", database, "-tAc", sql]);
  return run(c.cmd, c.args, { cwd: "/" }).trim();
}

/** Does the server on `port` accept connections (a hot standby: once consistent)? */
export async function pgReady(port: number): Promise<boolean> {
  const p = Bun.spawn([pgBin("pg_isready"), "-q", "-h", HOST, "-p", String(port), "-t", "2"], { stdout: "ignore", stderr: "ignore" });
  return (await p.exited) === 0;
}

/** `-c name=value` arguments of the postgres command line. */
export const settingArgs = (settings: Record<string, string | number>) => Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
