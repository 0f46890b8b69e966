/**
 * Webhooks through the API, delivered by the real dispatcher to loopback receivers: management
 * (CRUD, validation, ownership, limits), change events in log order and signed, the event-type
 * filter, retries with backoff and the delivery log, disabling after repeated failures and
 * resuming, the test endpoint, secret rotation, the URL policy, two dispatchers at once, and the
 * change log kept until delivered. Runs on either backend (TEST_BACKEND=production: PostgreSQL).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { WebhookDispatcher, type DispatcherSettings } from "../../src/webhooks/dispatcher";
import { sendDelivery } from "../../src/webhooks/sender";
import { verifySignature } from "../../src/webhooks/signature";
import { silentLogger } from "../../src/log";
import { MAX_WEBHOOKS_PER_COLLECTION } from "../../src/domain/webhook";

let t: TestApp;
let owner: string;
let token: string;
let stranger: string;
const receivers: WebhookReceiver[] = [];
const dispatchers: WebhookDispatcher[] = [];

const SETTINGS: DispatcherSettings = {
  pollMs: 20,
  batchSize: 100,
  maxBodyBytes: 1024 * 1024,
  maxAttempts: 4,
  retryBaseMs: 40,
  retryMaxMs: 200,
  concurrency: 8,
  timeoutMs: 2000,
};

function dispatcher(settings: Partial<DispatcherSettings> = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({
    store: t.backend.webhooks,
    history: t.backend.history,
    send: (request) => sendDelivery(request, { policy: { privateTargets: "allow", allowedHosts: null }, timeoutMs: 2000 }),
    log: silentLogger,
    settings: { ...SETTINGS, ...settings },
  });
  dispatchers.push(d);
  return d;
}

function receiver(): WebhookReceiver {
  const r = startReceiver();
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  t = await createTestApp();
  owner = `webhook-owner-${crypto.randomUUID()}`;
  token = await t.token(owner);
  stranger = await t.token(`webhook-stranger-${crypto.randomUUID()}`);
});
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});
afterAll(async () => {
  for (const r of receivers) r.stop();
  await t.close();
});

const hooksOf = (cid: string) => `/v1/collections/${cid}/webhooks`;
const memoriesOf = (cid: string) => `/v1/collections/${cid}/memories`;

async function createHook(cid: string, body: Record<string, unknown>) {
  const reply = await t.call("POST", hooksOf(cid), { token, body });
  expect(reply.status).toBe(201);
  return reply.body as { id: string; secret: string; delivered_seq: number };
}

async function add(cid: string, memories: unknown[]) {
  const reply = await t.call("POST", memoriesOf(cid), { token, body: { memories } });
  expect(reply.status).toBe(201);
}

/** Every event received, in arrival order. */
const eventsOf = (r: WebhookReceiver) => r.received.flatMap((x) => (x.body?.type === "memory.changes" ? x.body.events : []));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await Bun.sleep(15);
  }
}

describe("managing webhooks", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, token);
  });

  test("create answers the secret once; get and list never show it", async () => {
    const reply = await t.call("POST", hooksOf(cid), {
      token,
      body: { url: "https://example.com/hooks/memory", events: ["memory.created"], description: "crm sync" },
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.get("cache-control")).toBe("no-store");
    expect(reply.body).toMatchObject({
      collection_id: cid,
      url: "https://example.com/hooks/memory",
      events: ["memory.created"],
      description: "crm sync",
      enabled: true,
      disabled_reason: null,
      failures: 0,
      next_attempt_at: null,
    });
    expect(reply.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const id = reply.body.id;
    const one = await t.call("GET", `${hooksOf(cid)}/${id}`, { token });
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    expect(one.body.url).toBe("https://example.com/hooks/memory");
    const list = await t.call("GET", hooksOf(cid), { token });
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(id);
    expect(list.body.webhooks.every((w: Record<string, unknown>) => w.secret === undefined)).toBe(true);
  });

  test("bad input is a 422 naming the field; an empty patch says what a patch may change", async () => {
    const cases: [unknown, string][] = [
      [{ url: "ftp://example.com/x" }, "url: must use https or http, not ftp"],
      [{ url: "not a url" }, "url: is not an absolute URL"],
      [{ url: "https://user:pw@example.com/x" }, "url: must not carry credentials"],
      [{ url: "https://example.com/x", events: ["memory.exploded"] }, "events"],
      [{ url: "https://example.com/x", secret: "mine" }, "secret"],
      [{}, "url"],
    ];
    for (const [body, detail] of cases) {
      const reply = await t.call("POST", hooksOf(cid), { token, body });
      expect(reply.status).toBe(422);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(reply.body.detail).toContain(detail);
    }
    const hook = await createHook(cid, { url: "https://example.com/y" });
    const empty = await t.call("PATCH", `${hooksOf(cid)}/${hook.id}`, { token, body: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.detail).toContain("give url, events, description, enabled and/or rotate_secret");
    await t.call("DELETE", `${hooksOf(cid)}/${hook.id}`, { token });
  });

  test("only the collection's owner sees them; a missing webhook or collection is a 404", async () => {
    const hook = await createHook(cid, { url: "https://example.com/z" });
    for (const [method, path] of [
      ["GET", hooksOf(cid)],
      ["GET", `${hooksOf(cid)}/${hook.id}`],
      ["DELETE", `${hooksOf(cid)}/${hook.id}`],
      ["POST", `${hooksOf(cid)}/${hook.id}/test`],
      ["GET", `${hooksOf(cid)}/${hook.id}/deliveries`],
    ] as const) {
      const reply = await t.call(method, path, { token: stranger });
      expect(reply.status).toBe(404);
      expect(reply.body.detail).toBe("collection not found");
    }
    expect((await t.call("POST", hooksOf(cid), { token: stranger, body: { url: "https://example.com/q" } })).status).toBe(404);
    expect((await t.call("GET", `${hooksOf(cid)}/${crypto.randomUUID()}`, { token })).body.detail).toBe("webhook not found");
    expect((await t.call("GET", `${hooksOf(cid)}/not-a-uuid`, { token })).status).toBe(404);
    expect((await t.call("GET", hooksOf(cid))).status).toBe(401);
    expect((await t.call("DELETE", `${hooksOf(cid)}/${hook.id}`, { token })).status).toBe(204);
    expect((await t.call("GET", `${hooksOf(cid)}/${hook.id}`, { token })).status).toBe(404);
  });

  test(`a collection holds at most ${MAX_WEBHOOKS_PER_COLLECTION}: the next is a 409`, async () => {
    const c = await newCollection(t, token);
    for (let i = 0; i < MAX_WEBHOOKS_PER_COLLECTION; i++) await createHook(c, { url: `https://example.com/${i}` });
    const reply = await t.call("POST", hooksOf(c), { token, body: { url: "https://example.com/one-more" } });
    expect(reply.status).toBe(409);
    expect(reply.body.detail).toContain(`at most ${MAX_WEBHOOKS_PER_COLLECTION} webhooks`);
  });

  test("deleting the collection deletes its webhooks", async () => {
    const c = await newCollection(t, token);
    const hook = await createHook(c, { url: "https://example.com/gone" });
    expect((await t.call("DELETE", `/v1/collections/${c}`, { token })).status).toBe(204);
    expect(await t.backend.webhooks.get(c, hook.id)).toBeNull();
  });
});

describe("delivery", () => {
  test("changes after the webhook's creation arrive in log order, signed, with the history's seqs", async () => {
    const cid = await newCollection(t, token);
    await add(cid, [{ id: "before", content: "written before the webhook" }]);
    const r = receiver();
    const hook = await createHook(cid, { url: r.url });
    await add(cid, [
      { id: "a", content: "alpha", metadata: { n: 1 } },
      { id: "b", content: "beta" },
    ]);
    expect((await t.call("PATCH", `${memoriesOf(cid)}/a`, { token, body: { metadata: { n: 2 } } })).status).toBe(200);
    await add(cid, [{ id: "b", content: "beta, again" }]);
    expect((await t.call("DELETE", `${memoriesOf(cid)}/a`, { token })).status).toBe(204);
    dispatcher().start();
    await until("five events", () => eventsOf(r).length >= 5);

    const events = eventsOf(r);
    expect(events.map((e: { type: string; memory_id: string }) => [e.type, e.memory_id])).toEqual([
      ["memory.created", "a"],
      ["memory.created", "b"],
      ["memory.patched", "a"],
      ["memory.replaced", "b"],
      ["memory.deleted", "a"],
    ]);
    const history = (await t.call("GET", `${memoriesOf(cid)}/a/history`, { token })).body.history;
    const seqsOfA = events.filter((e: { memory_id: string }) => e.memory_id === "a").map((e: { seq: number }) => e.seq);
    expect(seqsOfA).toEqual(history.map((h: { seq: number }) => h.seq));
    for (const e of events) expect(e.id).toBe(`${cid}:${e.seq}`);
    expect(events[2]).toMatchObject({
      by: owner,
      old: { content: "alpha", metadata: { n: 1 }, expires_at: null },
      new: { content: "alpha", metadata: { n: 2 }, expires_at: null },
    });
    expect(events[4].new).toBeNull();
    for (const x of r.received) {
      expect(x.headers.get("content-type")).toBe("application/json");
      expect(x.headers.get("memory-webhook-id")).toBe(hook.id);
      expect(x.headers.get("memory-delivery-id")).toBe(x.body.delivery_id);
      expect(x.body).toMatchObject({ type: "memory.changes", webhook_id: hook.id, collection_id: cid });
      expect(verifySignature(hook.secret, x.text, x.headers.get("memory-signature"))).toBe(true);
      expect(verifySignature("whsec_someone-else", x.text, x.headers.get("memory-signature"))).toBe(false);
      expect(verifySignature(hook.secret, x.text.replace("alpha", "alphA"), x.headers.get("memory-signature"))).toBe(false);
    }
    await until("cursor at the head", async () => (await t.call("GET", `${hooksOf(cid)}/${hook.id}`, { token })).body.delivered_seq === events[4].seq);
  });

  test("a webhook receives only the event types it subscribed to; its cursor still passes the others", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    const hook = await createHook(cid, { url: r.url, events: ["memory.deleted"] });
    await add(cid, [{ id: "x", content: "x" }, { id: "y", content: "y" }]);
    expect((await t.call("DELETE", `${memoriesOf(cid)}/y`, { token })).status).toBe(204);
    await add(cid, [{ id: "z", content: "z" }]);
    dispatcher().start();
    await until("cursor past every change", async () => (await t.backend.webhooks.get(cid, hook.id))!.delivered_seq === hook.delivered_seq + 4);
    expect(eventsOf(r).map((e: { type: string; memory_id: string }) => `${e.type} ${e.memory_id}`)).toEqual(["memory.deleted y"]);
  });

  test("a failed delivery is retried with the same events until a 2xx; the log shows every attempt, newest first", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    r.answer(500, 503);
    const hook = await createHook(cid, { url: r.url });
    await add(cid, [{ id: "m", content: "retried until it lands" }]);
    dispatcher().start();
    await r.waitFor(3);
    const [first, second, third] = r.received.map((x) => x.body);
    expect(second.events).toEqual(first.events);
    expect(third.events).toEqual(first.events);
    expect(new Set([first.delivery_id, second.delivery_id, third.delivery_id]).size).toBe(3);
    await until("the log has three attempts", async () => (await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries`, { token })).body.deliveries.length === 3);
    const log = (await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries`, { token })).body;
    expect(log.next_cursor).toBeNull();
    expect(log.deliveries.map((d: { attempt: number; status_code: number; succeeded: boolean }) => [d.attempt, d.status_code, d.succeeded])).toEqual([
      [3, 200, true],
      [2, 503, false],
      [1, 500, false],
    ]);
    expect(log.deliveries[2]).toMatchObject({ kind: "events", event_count: 1, error: "the receiver answered HTTP 500" });
    expect(log.deliveries[0].id).toBe(third.delivery_id);
    const page = await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries?limit=2`, { token });
    expect(page.body.deliveries).toHaveLength(2);
    const rest = await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries?limit=2&cursor=${page.body.next_cursor}`, { token });
    expect(rest.body.deliveries.map((d: { attempt: number }) => d.attempt)).toEqual([1]);
    const state = (await t.call("GET", `${hooksOf(cid)}/${hook.id}`, { token })).body;
    expect(state).toMatchObject({ failures: 0, next_attempt_at: null, enabled: true });
    expect((await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries?limit=0`, { token })).status).toBe(422);
  });

  test("after WEBHOOK_MAX_ATTEMPTS failures in a row it is disabled; re-enabled, it resumes where it stopped", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    r.fallback = 503;
    const hook = await createHook(cid, { url: r.url });
    await add(cid, [{ id: "one", content: "first" }]);
    dispatcher().start();
    const url = `${hooksOf(cid)}/${hook.id}`;
    await until("disabled", async () => (await t.call("GET", url, { token })).body.enabled === false);
    const disabled = (await t.call("GET", url, { token })).body;
    expect(disabled.failures).toBe(SETTINGS.maxAttempts);
    expect(disabled.disabled_reason).toContain(`disabled after ${SETTINGS.maxAttempts} failed attempts in a row`);
    expect(disabled.disabled_reason).toContain("HTTP 503");
    expect(r.received).toHaveLength(SETTINGS.maxAttempts);

    await add(cid, [{ id: "two", content: "written while disabled" }]);
    await Bun.sleep(200);
    expect(r.received).toHaveLength(SETTINGS.maxAttempts);

    r.fallback = 200;
    const resumed = await t.call("PATCH", url, { token, body: { enabled: true } });
    expect(resumed.body).toMatchObject({ enabled: true, disabled_reason: null, failures: 0 });
    await until("both changes delivered", () => new Set(eventsOf(r).map((e: { memory_id: string }) => e.memory_id)).has("two"));
    const delivered = r.received.filter((x) => x.headers.get("memory-delivery-id") && x.body.type === "memory.changes");
    const last = delivered[delivered.length - 1]!.body.events.map((e: { memory_id: string }) => e.memory_id);
    expect(last).toEqual(["one", "two"]);
  });

  test("the test endpoint sends a signed ping and reports the receiver's answer, also when it fails", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    const hook = await createHook(cid, { url: r.url });
    const ok = await t.call("POST", `${hooksOf(cid)}/${hook.id}/test`, { token });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ delivered: true, status_code: 200, error: null });
    const ping = r.received[0]!;
    expect(ping.body).toMatchObject({ type: "webhook.test", webhook_id: hook.id, collection_id: cid, events: [] });
    expect(verifySignature(hook.secret, ping.text, ping.headers.get("memory-signature"))).toBe(true);

    r.answer(418);
    const refused = await t.call("POST", `${hooksOf(cid)}/${hook.id}/test`, { token });
    expect(refused.body).toMatchObject({ delivered: false, status_code: 418, error: "the receiver answered HTTP 418" });

    const dead = receiver();
    dead.stop();
    expect((await t.call("PATCH", `${hooksOf(cid)}/${hook.id}`, { token, body: { url: dead.url } })).status).toBe(200);
    const unreachable = await t.call("POST", `${hooksOf(cid)}/${hook.id}/test`, { token });
    expect(unreachable.body.delivered).toBe(false);
    expect(unreachable.body.status_code).toBeNull();
    expect(unreachable.body.error).toStartWith("could not deliver");

    const log = (await t.call("GET", `${hooksOf(cid)}/${hook.id}/deliveries`, { token })).body.deliveries;
    expect(log.map((d: { kind: string; status_code: number | null }) => [d.kind, d.status_code])).toEqual([
      ["test", null],
      ["test", 418],
      ["test", 200],
    ]);
  });

  test("rotate_secret answers a new secret, and deliveries are signed with it from then on", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    const hook = await createHook(cid, { url: r.url });
    const rotated = await t.call("PATCH", `${hooksOf(cid)}/${hook.id}`, { token, body: { rotate_secret: true } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    const plain = await t.call("PATCH", `${hooksOf(cid)}/${hook.id}`, { token, body: { description: "renamed" } });
    expect(plain.body.secret).toBeUndefined();
    await t.call("POST", `${hooksOf(cid)}/${hook.id}/test`, { token });
    const [ping] = await r.waitFor(1);
    expect(verifySignature(rotated.body.secret, ping!.text, ping!.headers.get("memory-signature"))).toBe(true);
    expect(verifySignature(hook.secret, ping!.text, ping!.headers.get("memory-signature"))).toBe(false);
  });

  test("two dispatchers (two workers) deliver every change once, in order", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    await createHook(cid, { url: r.url });
    dispatcher({ batchSize: 3 }).start();
    dispatcher({ batchSize: 3 }).start();
    const ids = Array.from({ length: 24 }, (_, i) => `m${String(i).padStart(2, "0")}`);
    for (let i = 0; i < ids.length; i += 4) await add(cid, ids.slice(i, i + 4).map((id) => ({ id, content: `memory ${id}` })));
    await until("24 events", () => eventsOf(r).length >= 24);
    await Bun.sleep(150);
    const events = eventsOf(r);
    expect(events.map((e: { memory_id: string }) => e.memory_id)).toEqual(ids);
    const seqs = events.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  test("the change log keeps what an enabled webhook has yet to deliver past its retention", async () => {
    const cid = await newCollection(t, token);
    const r = receiver();
    r.fallback = 500;
    await createHook(cid, { url: r.url });
    await add(cid, [{ id: "kept", content: "not delivered yet" }]);
    const future = new Date(Date.now() + 86_400_000);
    await t.backend.history.pruneHistory(future, 1_000_000);
    expect((await t.call("GET", `${memoriesOf(cid)}/kept/history`, { token })).body.history).toHaveLength(1);
    r.fallback = 200;
    dispatcher().start();
    await until("delivered", () => eventsOf(r).length >= 1);
    await until("the hook's cursor moved", async () => (await t.call("GET", hooksOf(cid), { token })).body.webhooks[0].failures === 0 && eventsOf(r).length === 1);
    await Bun.sleep(50);
    await t.backend.history.pruneHistory(future, 1_000_000);
    expect((await t.call("GET", `${memoriesOf(cid)}/kept/history`, { token })).body.history).toHaveLength(0);
  });
});

describe("the URL policy", () => {
  let strict: TestApp;
  let strictToken: string;
  beforeAll(async () => {
    strict = await createTestApp({ webhookPolicy: { privateTargets: "deny", allowedHosts: null } });
    strictToken = await strict.token(`webhook-strict-${crypto.randomUUID()}`);
  });
  afterAll(() => strict.close());

  test("with private targets denied, loopback, private and link-local addresses are refused", async () => {
    const cid = await newCollection(strict, strictToken);
    for (const url of ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://192.168.0.10/"]) {
      const reply = await strict.call("POST", hooksOf(cid), { token: strictToken, body: { url } });
      expect(reply.status).toBe(422);
      expect(reply.body.detail).toStartWith("url: must not point at");
    }
    expect((await strict.call("POST", hooksOf(cid), { token: strictToken, body: { url: "https://93.184.215.14/hook" } })).status).toBe(201);
  });

  test("an API key needs the admin scope for webhooks", async () => {
    const cid = await newCollection(t, token);
    const key = await t.call("POST", "/v1/keys", { token, body: { name: "writer", scopes: ["read", "write"] } });
    expect(key.status).toBe(201);
    const reply = await t.call("POST", hooksOf(cid), { token: key.body.key, body: { url: "https://example.com/k" } });
    expect(reply.status).toBe(403);
    expect(reply.body.detail).toContain("needs the admin scope");
    const admin = await t.call("POST", "/v1/keys", { token, body: { name: "admin", scopes: ["admin"] } });
    expect((await t.call("POST", hooksOf(cid), { token: admin.body.key, body: { url: "https://example.com/k" } })).status).toBe(201);
  });
});
