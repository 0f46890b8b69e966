/**
 * The real thing: `src/index.ts` started as a process on a free port with a fresh DATA_DIR,
 * tokens from the `token` CLI, the README's walk-through over real HTTP, a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const dataDir = mkdtempSync(join(tmpdir(), "memory-api-e2e-"));
const production = process.env.TEST_BACKEND === "production";
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  LOG_LEVEL: "info",
  MEMORY_MODE: production ? "production" : "embedded",
  // production needs a shared secret; embedded generates and saves one when none is given
  JWT_SECRET: production ? "e2e-secret-of-at-least-thirty-two-characters" : "",
};
let server: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let base = "";
let stderrText = "";

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function start(): Promise<void> {
  const port = freePort();
  base = `http://127.0.0.1:${port}`;
  server = Bun.spawn([process.execPath, "run", "src/index.ts"], { env: { ...env, PORT: String(port) }, stdout: "pipe", stderr: "pipe" });
  const reader = server.stderr.getReader();
  stderrText = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    stderrText += new TextDecoder().decode(value);
    if (stderrText.includes("listening on")) break;
  }
  reader.releaseLock();
  if (!stderrText.includes("listening on")) throw new Error(`server did not start:\n${stderrText}`);
}

async function stop(): Promise<number | null> {
  if (!server) return null;
  server.kill("SIGTERM");
  const code = await server.exited;
  server = undefined;
  return code;
}

async function mint(sub: string, tier = "free"): Promise<string> {
  const proc = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", "--", "--sub", sub, "--tier", tier, "--days", "1"], { env });
  expect(proc.exitCode).toBe(0);
  return proc.stdout.toString().trim();
}

const api = async (method: string, path: string, token?: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
};

beforeAll(start, 90_000);
afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the server process", () => {
  test.skipIf(production)("generates a JWT secret on first start, saves it privately, and says so", () => {
    expect(stderrText).toContain("generated one and saved it");
    expect(statSync(join(dataDir, "jwt-secret")).mode & 0o777).toBe(0o600);
  });

  test("logs are JSON lines", () => {
    for (const line of stderrText.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  });

  test("the token CLI rejects bad arguments with usage", () => {
    const proc = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", "--", "--tier", "gold"], { env });
    expect(proc.exitCode).toBe(2);
    expect(proc.stderr.toString()).toContain("usage:");
  });

  let cid = "";
  let token = "";
  test("the README walk-through works over HTTP", async () => {
    token = await mint("alice", "pro");
    expect((await api("GET", "/health")).body).toEqual({ status: "healthy", version: "1.0.0" });
    expect((await api("GET", "/ready")).status).toBe(200);

    const created = await api("POST", "/v1/collections", token, { name: `notes-${crypto.randomUUID()}`, description: "things to remember" });
    expect(created.status).toBe(201);
    cid = created.body.id;

    const added = await api("POST", `/v1/collections/${cid}/memories`, token, {
      memories: [
        { content: "I parked on level 4 of the airport garage, row G.", metadata: { kind: "travel", year: 2026 } },
        { content: "The dentist appointment is at 9:30 on Monday.", metadata: { kind: "health", year: 2026 } },
        { id: "k8s", content: "Our team uses Kubernetes to deploy the billing service.", metadata: { kind: "work" } },
      ],
    });
    expect(added.status).toBe(201);
    expect(added.body.ids).toHaveLength(3);

    const semantic = await api("POST", "/v1/search", token, { query: "where did I leave the car?", collection_id: cid });
    expect(semantic.body.results[0].content).toContain("airport garage");
    const keyword = await api("POST", "/v1/search", token, { query: "kubernetes", collection_id: cid, search_type: "keyword" });
    expect(keyword.body.results.map((r: { id: string }) => r.id)).toEqual(["k8s"]);
    const hybrid = await api("POST", "/v1/search", token, {
      query: "when should I see the tooth doctor",
      collection_id: cid,
      search_type: "hybrid",
      top_k: 3,
      filters: { metadata: { kind: { $in: ["health", "travel"] }, year: { $gte: 2025 } } },
    });
    expect(hybrid.body.results[0].content).toContain("dentist");
    expect(hybrid.body.results).toHaveLength(2);
  });

  test("a body over the limit is refused with 413 by the server itself", async () => {
    const response = await fetch(`${base}/v1/collections`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "x".repeat(11 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
  });

  test("SIGTERM drains and exits 0; after a restart the data and the secret are still there", async () => {
    expect(await stop()).toBe(0);
    await start();
    if (!production) expect(stderrText).toContain("using the JWT secret saved under DATA_DIR");
    const reply = await api("GET", `/v1/collections/${cid}/memories`, token);
    expect(reply.status).toBe(200);
    expect(reply.body.memories).toHaveLength(3);
    const search = await api("POST", "/v1/search", token, { query: "where did I leave the car?", collection_id: cid });
    expect(search.body.results[0].content).toContain("airport garage");
  }, 90_000);
});
