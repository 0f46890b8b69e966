/**
 * The repository's nginx.conf, run by the stack's nginx binary (as scripts/stack/nginx.ts runs
 * it) in a temporary prefix on a free loopback port, in front of a test server. Its listen.conf
 * also trusts an `X-Test-Client-Ip` header from loopback (the realip module), so a test can
 * speak as a client from any address without leaving the machine.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const NGINX_BIN = "/usr/sbin/nginx";
export const nginxAvailable = existsSync(NGINX_BIN);
export const CLIENT_IP_HEADER = "X-Test-Client-Ip";

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface RunningNginx {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startNginx(upstreamPort: number): Promise<RunningNginx> {
  const prefix = mkdtempSync(join(tmpdir(), "nginx-test-"));
  chmodSync(prefix, 0o755); // workers run as nobody when the master is root
  const port = await freePort();
  writeFileSync(
    join(prefix, "listen.conf"),
    `listen 127.0.0.1:${port};\nset_real_ip_from 127.0.0.1;\nreal_ip_header ${CLIENT_IP_HEADER};\n`,
  );
  writeFileSync(join(prefix, "upstream-servers.conf"), `server 127.0.0.1:${upstreamPort} max_fails=3 fail_timeout=5s;\n`);
  symlinkSync(resolve(import.meta.dir, "../../nginx.conf"), join(prefix, "nginx.conf"));
  const args = ["-p", `${prefix}/`, "-c", join(prefix, "nginx.conf"), "-e", "stderr"];
  const check = Bun.spawnSync([NGINX_BIN, ...args, "-t", "-q"]);
  if (check.exitCode !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const proc: Subprocess = Bun.spawn([NGINX_BIN, ...args, "-g", "daemon off;"], { stdout: "ignore", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while ((await fetch(`${url}/nginx-health`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error("nginx did not start");
    await Bun.sleep(50);
  }
  return {
    port,
    url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Sends raw bytes on a new connection; resolves with what came back once the server closes it (or `waitMs` passes). */
export function rawExchange(port: number, opts: { send: string; waitMs: number }): Promise<{ reply: string; closedAfterMs: number | null }> {
  return new Promise((done) => {
    const started = Date.now();
    let reply = "";
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(opts.send));
    const timer = setTimeout(() => {
      socket.destroy();
      done({ reply, closedAfterMs: null });
    }, opts.waitMs);
    socket.on("data", (d) => (reply += d.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      done({ reply, closedAfterMs: Date.now() - started });
    });
  });
}
