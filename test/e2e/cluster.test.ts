/**
 * `bun run cluster` as a process: two workers on their own ports, sharing one embedded data
 * folder and one JWT secret (and the API keys in it: a revocation reaches the other worker within
 * a second); with both dispatching, a webhook gets each change once, in order; a killed worker is
 * restarted; SIGTERM drains and exits.
 * (The production cluster behind nginx is exercised by `npm run bench`.)
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dataDir = mkdtempSync(join(tmpdir(), "memory-api-cluster-"));
const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
const basePort = probe.port! + 1; // the next two ports, free in practice on loopback
probe.stop(true);
const env = { ...process.env, MEMORY_MODE: "embedded", DATA_DIR: dataDir, JWT_SECRET: "", LOG_LEVEL: "info", CLUSTER_WORKERS: "2", CLUSTER_BASE_PORT: String(basePort) };
const supervisor = Bun.spawn([process.execPath, "run", "src/cluster.ts"], { env, stdout: "pipe", stderr: "pipe" });
let log = "";
const reading = (async () => {
  for await (const chunk of supervisor.stderr) log += new TextDecoder().decode(chunk);
})();

afterAll(() => {
  supervisor.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; log:\n${log}`);
}

const ready = (port: number) =>
  fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);

test("two workers start, share the data and one secret, a killed one comes back, SIGTERM drains", async () => {
  await until("all workers ready", () => log.includes("all 2 workers ready"));
  const token = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", "--", "--sub", "c", "--tier", "pro"], { env }).stdout.toString().trim();
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  const created = await fetch(`http://127.0.0.1:${basePort}/v1/collections`, { method: "POST", headers: auth, body: JSON.stringify({ name: "shared" }) });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const seen = await fetch(`http://127.0.0.1:${basePort + 1}/v1/collections/${id}`, { headers: auth });
  expect(seen.status).toBe(200); // the other worker: same data, same secret

  // An API key made on one worker works on the other; revoked there, the other refuses it within the bound.
  const made = await fetch(`http://127.0.0.1:${basePort}/v1/keys`, { method: "POST", headers: auth, body: JSON.stringify({ name: "bot", scopes: ["read"] }) });
  expect(made.status).toBe(201);
  const key = (await made.json()) as { id: string; key: string };
  const withKey = () => fetch(`http://127.0.0.1:${basePort + 1}/v1/collections/${id}`, { headers: { authorization: `Bearer ${key.key}` } });
  expect((await withKey()).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${basePort}/v1/keys/${key.id}`, { method: "DELETE", headers: auth })).status).toBe(204);
  const revokedAt = Date.now();
  for (;;) {
    const startedAt = Date.now();
    const status = (await withKey()).status;
    if (status === 401) break;
    expect(status).toBe(200);
    expect(startedAt - revokedAt).toBeLessThan(1000); // API_KEY_CACHE_MS: only a request begun within it may pass
    await Bun.sleep(25);
  }

  // A webhook: both workers run a dispatcher over the shared file; each change is delivered once, in order.
  const events: { memory_id: string; seq: number }[] = [];
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = (await request.json()) as { type: string; events: { memory_id: string; seq: number }[] };
      if (body.type === "memory.changes") events.push(...body.events);
      return new Response(null, { status: 204 });
    },
  });
  const hook = await fetch(`http://127.0.0.1:${basePort}/v1/collections/${id}/webhooks`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook` }),
  });
  expect(hook.status).toBe(201);
  const written = Array.from({ length: 10 }, (_, i) => `w${i}`);
  for (const [i, mid] of written.entries()) {
    const port = basePort + (i % 2);
    const reply = await fetch(`http://127.0.0.1:${port}/v1/collections/${id}/memories`, { method: "POST", headers: auth, body: JSON.stringify({ memories: [{ id: mid, content: `memory ${mid}` }] }) });
    expect(reply.status).toBe(201);
  }
  await until("ten webhook events", () => events.length >= 10);
  await Bun.sleep(1500); // a duplicate would arrive within a poll
  expect(events.map((e) => e.memory_id)).toEqual(written);
  receiver.stop(true);

  const pid = Number(/"worker":1,"port":\d+,"pid":(\d+)/.exec(log)?.[1]);
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGKILL");
  await until("the worker to be restarted", () => /worker exited; restarting[^\n]*"worker":1/.test(log));
  await until("the restarted worker to answer", () => ready(basePort + 1));

  supervisor.kill("SIGTERM");
  expect(await supervisor.exited).toBe(0);
  await reading;
  expect(log).toContain("all workers stopped");
  expect(await ready(basePort)).toBe(false);
  expect(await ready(basePort + 1)).toBe(false);
}, 180_000);
