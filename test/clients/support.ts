/**
 * The clients (clients/) talk to the API over HTTP, so their tests run a real Memory API process
 * (`src/index.ts`, embedded with a fresh DATA_DIR, or production on the real services when
 * TEST_BACKEND=production) on a port in 18200-18299, and talk to it like any client.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = resolve(import.meta.dir, "../..");
export const production = process.env.TEST_BACKEND === "production";

/** A free loopback port in 18200-18299 (the range these tests may use). */
export function freePort(): number {
  const start = 18200 + Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const port = 18200 + ((start - 18200 + i) % 100);
    try {
      const probe = Bun.serve({ port, hostname: "127.0.0.1", fetch: () => new Response() });
      probe.stop(true);
      return port;
    } catch {
      // taken: try the next one
    }
  }
  throw new Error("no free port in 18200-18299");
}

export interface MemoryApiProcess {
  url: string;
  env: Record<string, string>;
  /** Signs a token with the server's secret through the project's token CLI. */
  mint(sub: string, tier?: string, ttl?: { days?: number; hours?: number }): string;
  /** An authenticated JSON call. */
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startMemoryApi(extraEnv: Record<string, string> = {}): Promise<MemoryApiProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "memory-api-clients-"));
  const port = freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    MEMORY_MODE: production ? "production" : "embedded",
    JWT_SECRET: "integrations-test-secret-of-at-least-32-chars",
    PORT: String(port),
    // client tests check that premium searches are reranked, not that this box reranks within the
    // default second (a busy CI box answered unreranked: the degrade path, tested in test/ml)
    RERANK_MAX_WAIT_MS: "60000",
    ...extraEnv,
  };
  const server: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([process.execPath, "run", "src/index.ts"], {
    cwd: process.env.DEV_API_ROOT ?? ROOT,
    env: { ...env, LOG_LEVEL: "info" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = server.stderr.getReader();
  let text = "";
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !text.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  // keep draining stderr so the server never blocks on a full pipe
  void server.stderr.pipeTo(new WritableStream()).catch(() => {});
  if (!text.includes("listening on")) {
    server.kill();
    throw new Error(`the Memory API did not start:\n${text}`);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    env,
    mint(sub, tier = "free", ttl = { days: 1 }) {
      const args = ["--sub", sub, "--tier", tier];
      if (ttl.hours !== undefined) args.push("--hours", String(ttl.hours));
      else args.push("--days", String(ttl.days ?? 1));
      if ((ttl.days ?? 0) > 1 || (ttl.hours ?? 0) > 24) args.push("--long"); // the CLI asks for it over 24 h
      const proc = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", "--", ...args], { cwd: ROOT, env });
      if (proc.exitCode !== 0) throw new Error(`token CLI failed: ${proc.stderr}`);
      return proc.stdout.toString().trim();
    },
    async call(method, path, token, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const raw = await response.text();
      return { status: response.status, body: raw ? JSON.parse(raw) : undefined };
    },
    async stop() {
      server.kill("SIGTERM");
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The machine-readable summary line of import:notion. */
  summary?: { pages: number; chunks: number; added: number; updated: number; unchanged: number; removed: number; problems: number; memoriesPerSecond: number };
}

/** Runs `bun run <script> args…` to completion. */
export async function runScript(script: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const proc = Bun.spawn([process.execPath, "run", script, ...args], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const line = stdout.split("\n").find((l) => l.startsWith("SUMMARY "));
  return { code, stdout, stderr, summary: line ? JSON.parse(line.slice("SUMMARY ".length)) : undefined };
}

export async function newCollection(api: MemoryApiProcess, token: string): Promise<string> {
  const reply = await api.call("POST", "/v1/collections", token, { name: `integration-${crypto.randomUUID()}` });
  if (reply.status !== 201) throw new Error(`cannot create a collection: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}

export async function allMemories(api: MemoryApiProcess, token: string, collectionId: string): Promise<{ id: string; content: string; metadata: Record<string, unknown> }[]> {
  const out = [];
  let cursor: string | null = null;
  do {
    const reply: { status: number; body: any } = await api.call("GET", `/v1/collections/${collectionId}/memories?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
    if (reply.status !== 200) throw new Error(`list failed: ${reply.status}`);
    out.push(...reply.body.memories);
    cursor = reply.body.next_cursor;
  } while (cursor);
  return out;
}
