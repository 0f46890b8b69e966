/**
 * `bun run scripts/ops/promtool.ts [promtool args…]`: makes sure promtool is available, then
 * runs it with the arguments (none: prints its path). Idempotent: the binary is taken once
 * from Debian's `prometheus` package (`apt-get download`, no install, so no system Prometheus
 * service is started) and kept in .stack/promtool/ (git-ignored). A promtool already on PATH
 * is used as is.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";

const ROOT = resolve(import.meta.dir, "../..");
const CACHED = join(ROOT, ".stack", "promtool", "promtool");

function run(cmd: string[], cwd?: string): { ok: boolean; out: string } {
  const proc = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  return { ok: proc.exitCode === 0, out: proc.stdout.toString() + proc.stderr.toString() };
}

/** The path of a working promtool, fetching it from the Debian package when needed. */
export function ensurePromtool(): string {
  if (existsSync(CACHED)) return CACHED;
  const onPath = Bun.which("promtool");
  if (onPath) return onPath;
  if (!Bun.which("apt-get") || !Bun.which("dpkg-deb")) {
    throw new Error("promtool is not installed and this is not a Debian system: install Prometheus' promtool and put it on PATH");
  }
  const work = mkdtempSync(join(tmpdir(), "memory-api-promtool-"));
  try {
    console.error("[promtool] downloading Debian package `prometheus` (for its promtool only)");
    let download = run(["apt-get", "download", "prometheus"], work);
    if (!download.ok && /Unable to locate|no installation candidate/i.test(download.out)) {
      console.error("[promtool] package lists missing or stale: apt-get update");
      const update = run(["apt-get", "update"]);
      if (!update.ok) throw new Error(`apt-get update failed (needs root):\n${update.out}`);
      download = run(["apt-get", "download", "prometheus"], work);
    }
    if (!download.ok) throw new Error(`apt-get download prometheus failed:\n${download.out}`);
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error("apt-get download prometheus left no .deb");
    const extracted = join(work, "x");
    const unpack = run(["dpkg-deb", "-x", join(work, deb), extracted]);
    if (!unpack.ok) throw new Error(`dpkg-deb -x failed:\n${unpack.out}`);
    const binary = join(extracted, "usr", "bin", "promtool");
    if (!existsSync(binary)) throw new Error(`${deb} has no usr/bin/promtool`);
    mkdirSync(join(ROOT, ".stack", "promtool"), { recursive: true });
    const partial = `${CACHED}.partial`;
    copyFileSync(binary, partial);
    chmodSync(partial, 0o755);
    const version = run([partial, "--version"]);
    if (!version.ok) throw new Error(`the extracted promtool does not run:\n${version.out}`);
    renameSync(partial, CACHED); // atomic: a half-copied binary is never taken for a good one
    console.error(`[promtool] ready: ${CACHED} (${version.out.split("\n")[0]})`);
    return CACHED;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const promtool = ensurePromtool();
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.log(promtool);
  } else {
    const proc = Bun.spawnSync([promtool, ...args], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    process.exit(proc.exitCode ?? 1);
  }
}
