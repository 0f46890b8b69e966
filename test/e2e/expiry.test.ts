/**
 * A real one-second TTL over real HTTP: the app served by Bun.serve, the real clock, and the
 * sweeper running on its own timer as src/index.ts runs it. The memory answers until its time,
 * then is gone from get and from a search answer cached before; the sweeper then records its
 * expiry. Runs on either backend (TEST_BACKEND=production: a private PostgreSQL schema).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { startSweepers, type Sweepers } from "../../src/maintenance/sweepers";
import { silentLogger } from "../../src/log";

let t: TestApp;
let server: ReturnType<typeof Bun.serve>;
let sweepers: Sweepers;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => t.app.handle(request) });
  sweepers = startSweepers({
    expiry: t.backend.expiry,
    history: t.backend.history,
    log: silentLogger,
    settings: { expirySweepIntervalSeconds: 1, historyRetentionDays: 30, historyPruneIntervalSeconds: 3600 },
  });
  token = await t.token(`ttl-${crypto.randomUUID()}`);
});
afterAll(async () => {
  await sweepers.stop();
  server.stop(true);
  await t.close();
});

async function http(method: string, path: string, body?: unknown) {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // tests read arbitrary answers, as Reply.body in test/support/app.ts does
  const answer: any = response.status === 204 ? null : await response.json();
  return { status: response.status, body: answer };
}

test("a memory with ttl_seconds: 1 is served until its time, then gone (cached search too), then purged by the sweeper", async () => {
  const cid = await newCollection(t, token);
  const written = await http("POST", `/v1/collections/${cid}/memories`, {
    memories: [
      { id: "fleeting", content: "The harbour ferry leaves at dawn today.", ttl_seconds: 1 },
      { id: "steady", content: "The harbour ferry runs every morning." },
    ],
  });
  expect(written.status).toBe(201);
  const got = await http("GET", `/v1/collections/${cid}/memories/fleeting`);
  const expiresAt = Date.parse(got.body.expires_at);
  const query = { collection_id: cid, query: "harbour ferry", top_k: 5 };
  const before = await http("POST", "/v1/search", query);
  const cached = await http("POST", "/v1/search", query);
  // the answers before the expiry hold it, the second from the cache (unless the second already
  // came after the expiry on a very slow machine)
  if (Date.now() < expiresAt) {
    expect(before.body.results.map((r: { id: string }) => r.id)).toContain("fleeting");
    if (cached.body.cached) expect(cached.body.results.map((r: { id: string }) => r.id)).toContain("fleeting");
  }
  await Bun.sleep(Math.max(0, expiresAt - Date.now()) + 50);
  expect((await http("GET", `/v1/collections/${cid}/memories/fleeting`)).status).toBe(404);
  const after = await http("POST", "/v1/search", query);
  expect(after.body.results.map((r: { id: string }) => r.id)).toEqual(["steady"]);

  // the sweeper (every second) purges it; its history then ends with `expire`
  let ops: string[] = [];
  for (let i = 0; i < 100 && !ops.includes("expire"); i++) {
    await Bun.sleep(100);
    ops = (await http("GET", `/v1/collections/${cid}/memories/fleeting/history`)).body.history.map((h: { op: string }) => h.op);
  }
  expect(ops).toEqual(["create", "expire"]);
});
