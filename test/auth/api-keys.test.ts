/**
 * API keys through the API: made, listed and revoked by their owner (the secret shown once and
 * never readable back), accepted wherever a JWT is, limited by their scopes and collection
 * allow-list (403 naming what is missing), 401 when unknown, revoked or expired, and refused by a
 * second worker within the revocation bound. Runs in either mode (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type Reply, type TestApp } from "../support/app";
import { API_KEY_CACHE_MS } from "../../src/auth/api-key-verifier";
import { hashSecret, mintApiKey } from "../../src/auth/api-key-format";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";

const KEY_FORMAT = /^mapi_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/;

let t: TestApp;
let owner: string;
let jwt: string;
let cid: string;
let mid: string;
let other: string; // a second collection of the owner's

beforeAll(async () => {
  t = await createTestApp();
  owner = `key-owner-${crypto.randomUUID()}`;
  jwt = await t.token(owner);
  cid = await newCollection(t, jwt, "notes");
  other = await newCollection(t, jwt, "diary");
  const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
    token: jwt,
    body: { memories: [{ content: "The boiler in the basement is serviced every October by Acme Heating." }] },
  });
  mid = added.body.ids[0];
  await t.call("POST", `/v1/collections/${other}/memories`, {
    token: jwt,
    body: { memories: [{ content: "Dear diary, the boiler made a noise today." }] },
  });
});
afterAll(() => t.close());

interface MadeKey {
  id: string;
  key: string;
  [field: string]: unknown;
}

async function makeKey(body: Record<string, unknown>, token = jwt, app = t): Promise<MadeKey> {
  const reply = await app.call("POST", "/v1/keys", { token, body: { name: "bot", ...body } });
  if (reply.status !== 201) throw new Error(`key create failed: ${reply.status} ${reply.text}`);
  return reply.body;
}

function expectForbidden(reply: Reply, where: string, ...phrases: string[]) {
  expect({ where, status: reply.status, type: reply.headers.get("content-type") }).toEqual({
    where,
    status: 403,
    type: "application/problem+json",
  });
  expect(reply.body.code).toBe("forbidden");
  for (const phrase of phrases) expect(reply.body.detail, where).toContain(phrase);
}

function expectUnauthorized(reply: Reply) {
  expect(reply.status).toBe(401);
  expect(reply.headers.get("content-type")).toBe("application/problem+json");
  expect(reply.body).toMatchObject({ code: "unauthorized", detail: "API key is unknown, revoked or expired" });
  expect(reply.headers.get("www-authenticate")).toContain("Bearer");
}

describe("making, listing and revoking keys", () => {
  test("the key is in the create answer only: list and get never show it, and the store keeps only its hash", async () => {
    const created = await t.call("POST", "/v1/keys", {
      token: jwt,
      body: { name: "  nightly importer ", scopes: ["read", "write"], collections: [cid] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const { key, ...shown } = created.body;
    expect(key).toMatch(KEY_FORMAT);
    expect(shown).toEqual({
      id: key.slice(5, 17),
      name: "nightly importer",
      prefix: key.slice(0, 17),
      scopes: ["read", "write"],
      collections: [cid],
      created_at: expect.any(String),
      last_used_at: null,
      expires_at: null,
    });
    expect(Date.parse(shown.created_at)).not.toBeNaN();
    const secret = key.slice(18);

    const listed = await t.call("GET", "/v1/keys", { token: jwt });
    expect(listed.status).toBe(200);
    expect(listed.body.keys).toContainEqual(shown);
    const got = await t.call("GET", `/v1/keys/${shown.id}`, { token: jwt });
    expect(got.body).toEqual(shown);
    for (const reply of [listed, got]) {
      expect(reply.text).not.toContain(secret);
      expect(reply.text).not.toContain(hashSecret(secret));
      expect(reply.text).not.toContain('"key"');
    }

    const stored = await t.backend.apiKeys.find(shown.id);
    expect(stored?.secret_hash).toBe(hashSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  test("every key is different and works at once", async () => {
    const a = await makeKey({ scopes: ["read"] });
    const b = await makeKey({ scopes: ["read"] });
    expect(a.key).not.toBe(b.key);
    expect(a.id).not.toBe(b.id);
    expect((await t.call("GET", "/v1/collections", { token: a.key })).status).toBe(200);
  });

  test("invalid bodies are 422s naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ scopes: ["read", "delete"] }, "scopes[1]"],
      [{ scopes: [] }, "scopes"],
      [{}, "scopes"],
      [{ name: "", scopes: ["read"] }, "name"],
      [{ scopes: ["read"], collections: [] }, "collections"],
      [{ scopes: ["read"], expires_at: "2020-01-01T00:00:00Z" }, "expires_at"],
      [{ scopes: ["read"], expires_at: "next tuesday" }, "expires_at"],
      [{ scopes: ["read"], owner: "mallory" }, "owner"],
    ];
    for (const [body, field] of cases) {
      const reply = await t.call("POST", "/v1/keys", { token: jwt, body: { name: "bot", ...body } });
      expect({ body, status: reply.status, code: reply.body.code }).toEqual({ body, status: 422, code: "validation_failed" });
      expect(reply.body.detail, JSON.stringify(body)).toContain(field);
    }
  });

  test("an allow-list naming a collection that is not yours is a 404, as another user's collection is everywhere", async () => {
    const mallory = await t.token(`mallory-${crypto.randomUUID()}`);
    const theirs = await t.call("POST", "/v1/keys", { token: mallory, body: { name: "x", scopes: ["read"], collections: [cid] } });
    const none = await t.call("POST", "/v1/keys", { token: jwt, body: { name: "x", scopes: ["read"], collections: [other, crypto.randomUUID()] } });
    for (const reply of [theirs, none]) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe("not_found");
    }
    expect(theirs.body).toMatchObject({ field: "collections[0]", detail: `collections[0]: collection ${cid} not found` });
    expect(none.body.field).toBe("collections[1]");
  });

  test("expires_at is kept as an instant (UTC)", async () => {
    const key = await makeKey({ scopes: ["read"], expires_at: "2099-06-01T12:00:00+02:00" });
    expect(key.expires_at).toBe("2099-06-01T10:00:00.000Z");
    expect((await t.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
  });

  test("keys are their owner's: another user neither sees, reads nor revokes them", async () => {
    const key = await makeKey({ scopes: ["read"] });
    const mallory = await t.token(`mallory-${crypto.randomUUID()}`);
    expect((await t.call("GET", "/v1/keys", { token: mallory })).body.keys).toEqual([]);
    expect((await t.call("GET", `/v1/keys/${key.id}`, { token: mallory })).status).toBe(404);
    expect((await t.call("DELETE", `/v1/keys/${key.id}`, { token: mallory })).status).toBe(404);
    expect((await t.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
  });

  test("revoking answers 204, then 404; the key is refused at once by the worker that revoked it", async () => {
    const key = await makeKey({ scopes: ["read"] });
    expect((await t.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
    expect((await t.call("DELETE", `/v1/keys/${key.id}`, { token: jwt })).status).toBe(204);
    expectUnauthorized(await t.call("GET", "/v1/collections", { token: key.key }));
    expect((await t.call("DELETE", `/v1/keys/${key.id}`, { token: jwt })).status).toBe(404);
    expect((await t.call("GET", `/v1/keys/${key.id}`, { token: jwt })).status).toBe(404);
    const listed = await t.call("GET", "/v1/keys", { token: jwt });
    expect(listed.body.keys.map((k: { id: string }) => k.id)).not.toContain(key.id);
  });

  test("an owner holds at most 100 keys (409 after that) until one is revoked", async () => {
    const hoarder = await t.token(`hoarder-${crypto.randomUUID()}`);
    const made: MadeKey[] = [];
    for (let i = 0; i < 100; i++) made.push(await makeKey({ name: `k${i}`, scopes: ["read"] }, hoarder));
    const refused = await t.call("POST", "/v1/keys", { token: hoarder, body: { name: "one more", scopes: ["read"] } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "conflict", detail: expect.stringContaining("100 API keys") });
    expect((await t.call("DELETE", `/v1/keys/${made[0]!.id}`, { token: hoarder })).status).toBe(204);
    expect((await t.call("POST", "/v1/keys", { token: hoarder, body: { name: "one more", scopes: ["read"] } })).status).toBe(201);
  });

  test("last_used_at is recorded after a use", async () => {
    const key = await makeKey({ scopes: ["read"] });
    const before = Date.now();
    expect((await t.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
    const deadline = Date.now() + 5000;
    let lastUsed: string | null = null;
    while (lastUsed === null && Date.now() < deadline) {
      await Bun.sleep(20);
      lastUsed = (await t.call("GET", `/v1/keys/${key.id}`, { token: jwt })).body.last_used_at;
    }
    expect(lastUsed).not.toBeNull();
    expect(Date.parse(lastUsed!)).toBeGreaterThanOrEqual(before - 1);
  });
});

describe("scopes", () => {
  const readRoutes = (): [string, string, unknown?][] => [
    ["GET", "/v1/collections"],
    ["GET", `/v1/collections/${cid}`],
    ["GET", `/v1/collections/${cid}/memories`],
    ["GET", `/v1/collections/${cid}/memories/${mid}`],
    ["GET", `/v1/collections/${cid}/entities`],
    ["POST", "/v1/search", { query: "boiler service", collection_id: cid, search_type: "keyword" }],
  ];
  // Denied before anything happens, so these target the shared collection and memory.
  const writeRoutes = (): [string, string, string, unknown?][] => [
    ["POST", "/v1/collections", "POST /v1/collections", { name: `new-${crypto.randomUUID()}` }],
    ["POST", `/v1/collections/${cid}/memories`, "POST /v1/collections/:collection_id/memories", { memories: [{ content: "x" }] }],
    ["PATCH", `/v1/collections/${cid}/memories/${mid}`, "PATCH /v1/collections/:collection_id/memories/:memory_id", { content: "defaced" }],
    ["DELETE", `/v1/collections/${cid}/memories/${mid}`, "DELETE /v1/collections/:collection_id/memories/:memory_id"],
    ["DELETE", `/v1/collections/${cid}`, "DELETE /v1/collections/:collection_id"],
  ];
  const adminRoutes = (): [string, string, string, unknown?][] => [
    ["GET", "/v1/keys", "GET /v1/keys"],
    ["POST", "/v1/keys", "POST /v1/keys", { name: "child", scopes: ["read"] }],
    ["GET", "/v1/keys/AAAAAAAAAAAA", "GET /v1/keys/:key_id"],
    ["DELETE", "/v1/keys/AAAAAAAAAAAA", "DELETE /v1/keys/:key_id"],
  ];

  async function expectUntouched() {
    expect((await t.call("GET", `/v1/collections/${cid}/memories/${mid}`, { token: jwt })).body.content).toContain("boiler");
  }

  test("read: GET routes and search; every write and /v1/keys is a 403 naming the scope it needs", async () => {
    const { key } = await makeKey({ scopes: ["read"] });
    for (const [method, path, body] of readRoutes()) {
      const reply = await t.call(method, path, { token: key, body });
      expect({ route: `${method} ${path}`, status: reply.status }).toEqual({ route: `${method} ${path}`, status: 200 });
    }
    const search = await t.call("POST", "/v1/search", { token: key, body: readRoutes()[5]![2] });
    expect(search.body.results[0].id).toBe(mid);
    for (const [method, path, route, body] of writeRoutes()) {
      expectForbidden(await t.call(method, path, { token: key, body }), route, "has the read scope", `${route} needs the write scope`);
    }
    for (const [method, path, route, body] of adminRoutes()) {
      expectForbidden(await t.call(method, path, { token: key, body }), route, `${route} needs the admin scope`);
    }
    await expectUntouched();
    expect((await t.call("GET", `/v1/collections/${cid}`, { token: jwt })).status).toBe(200);
  });

  test("write: creates, changes and deletes; reading and /v1/keys are 403s", async () => {
    const { key } = await makeKey({ scopes: ["write"] });
    const created = await t.call("POST", "/v1/collections", { token: key, body: { name: `by-key-${crypto.randomUUID()}` } });
    expect(created.status).toBe(201);
    const mine = created.body.id;
    const added = await t.call("POST", `/v1/collections/${mine}/memories`, { token: key, body: { memories: [{ content: "written by a key" }] } });
    expect(added.status).toBe(201);
    const memory = added.body.ids[0];
    expect((await t.call("PATCH", `/v1/collections/${mine}/memories/${memory}`, { token: key, body: { content: "changed" } })).status).toBe(200);
    // the key acts as its owner: the JWT sees what the key wrote
    expect((await t.call("GET", `/v1/collections/${mine}/memories/${memory}`, { token: jwt })).body.content).toBe("changed");
    expect((await t.call("DELETE", `/v1/collections/${mine}/memories/${memory}`, { token: key })).status).toBe(204);
    expect((await t.call("DELETE", `/v1/collections/${mine}`, { token: key })).status).toBe(204);

    for (const [method, path, body] of readRoutes()) {
      const route = method === "POST" ? "POST /v1/search" : `GET ${path}`;
      expectForbidden(await t.call(method, path, { token: key, body }), route, "has the write scope", "needs the read scope");
    }
    for (const [method, path, route, body] of adminRoutes()) {
      expectForbidden(await t.call(method, path, { token: key, body }), route, `${route} needs the admin scope`);
    }
  });

  test("read and write together: everything but /v1/keys", async () => {
    const { key } = await makeKey({ scopes: ["read", "write"] });
    expect((await t.call("GET", "/v1/collections", { token: key })).status).toBe(200);
    const created = await t.call("POST", "/v1/collections", { token: key, body: { name: `rw-${crypto.randomUUID()}` } });
    expect(created.status).toBe(201);
    expect((await t.call("DELETE", `/v1/collections/${created.body.id}`, { token: key })).status).toBe(204);
    expectForbidden(await t.call("GET", "/v1/keys", { token: key }), "GET /v1/keys", "has the read, write scopes", "needs the admin scope");
  });

  test("admin: everything, managing keys included", async () => {
    const admin = await makeKey({ scopes: ["admin"] });
    for (const [method, path, body] of readRoutes()) {
      expect((await t.call(method, path, { token: admin.key, body })).status).toBe(200);
    }
    const child = await makeKey({ name: "child", scopes: ["read"] }, admin.key);
    expect((await t.call("GET", "/v1/collections", { token: child.key })).status).toBe(200);
    const listed = await t.call("GET", "/v1/keys", { token: admin.key });
    expect(listed.body.keys.map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining([admin.id, child.id]));
    expect((await t.call("DELETE", `/v1/keys/${child.id}`, { token: admin.key })).status).toBe(204);
    expectUnauthorized(await t.call("GET", "/v1/collections", { token: child.key }));
    const created = await t.call("POST", "/v1/collections", { token: admin.key, body: { name: `admin-${crypto.randomUUID()}` } });
    expect(created.status).toBe(201);
    expect((await t.call("DELETE", `/v1/collections/${created.body.id}`, { token: admin.key })).status).toBe(204);
  });
});

describe("collection allow-list", () => {
  test("every collection route and search reach the listed collections only; the listing shows only them", async () => {
    const { key } = await makeKey({ scopes: ["read", "write"], collections: [cid] });
    const listed = await t.call("GET", "/v1/collections", { token: key });
    expect(listed.body.collections.map((c: { id: string }) => c.id)).toEqual([cid]);
    expect((await t.call("GET", `/v1/collections/${cid}`, { token: key })).status).toBe(200);
    const found = await t.call("POST", "/v1/search", { token: key, body: { query: "boiler", collection_id: cid, search_type: "keyword" } });
    expect(found.status).toBe(200);
    expect(found.body.results.length).toBeGreaterThan(0);

    const outside: [string, string, unknown?][] = [
      ["GET", `/v1/collections/${other}`],
      ["DELETE", `/v1/collections/${other}`],
      ["GET", `/v1/collections/${other}/memories`],
      ["POST", `/v1/collections/${other}/memories`, { memories: [{ content: "intrusion" }] }],
      ["GET", `/v1/collections/${other}/entities`],
      ["POST", "/v1/search", { query: "boiler", collection_id: other, search_type: "keyword" }],
      ["POST", "/v1/search", { query: "boiler", collection_id: other }],
    ];
    for (const [method, path, body] of outside) {
      expectForbidden(await t.call(method, path, { token: key, body }), `${method} ${path}`, "limited to 1 collection", `${other} is not one of them`);
    }
    expectForbidden(
      await t.call("POST", "/v1/collections", { token: key, body: { name: `nope-${crypto.randomUUID()}` } }),
      "POST /v1/collections",
      "cannot create collections",
    );
    // nothing reached the other collection
    const theirs = await t.call("GET", `/v1/collections/${other}/memories`, { token: jwt });
    expect(theirs.body.memories.map((m: { content: string }) => m.content)).toEqual(["Dear diary, the boiler made a noise today."]);
  });

  test("an admin key limited to collections makes keys limited to some of them only", async () => {
    const admin = await makeKey({ scopes: ["admin"], collections: [cid] });
    expectForbidden(await t.call("POST", "/v1/keys", { token: admin.key, body: { name: "wider", scopes: ["read"] } }), "unlisted", "limited to some collections");
    expectForbidden(
      await t.call("POST", "/v1/keys", { token: admin.key, body: { name: "other", scopes: ["read"], collections: [other] } }),
      "another collection",
      "limited to some collections",
    );
    const narrower = await makeKey({ name: "narrower", scopes: ["read"], collections: [cid] }, admin.key);
    expect(narrower.collections).toEqual([cid]);
  });
});

describe("keys that are not valid", () => {
  test("unknown, malformed, tampered, revoked and expired keys are 401 like a bad JWT", async () => {
    const real = await makeKey({ scopes: ["read"] });
    const tampered = real.key.slice(0, -1) + (real.key.endsWith("a") ? "b" : "a");
    const unknown = mintApiKey().key;
    const malformed = ["mapi_", "mapi_short_secret", `${real.key}x`, real.key.replace("_", "-")];
    for (const token of [tampered, unknown, ...malformed.filter((k) => k.startsWith("mapi_"))]) {
      expectUnauthorized(await t.call("GET", "/v1/collections", { token }));
    }
    // expired: written straight into the store, since the API refuses a past expires_at
    const expired = mintApiKey();
    await t.backend.apiKeys.create({
      id: expired.id,
      owner,
      name: "expired",
      tier: "free",
      scopes: ["read"],
      collections: null,
      expires_at: new Date(Date.now() - 1000).toISOString(),
      secret_hash: expired.secretHash,
    });
    expectUnauthorized(await t.call("GET", "/v1/collections", { token: expired.key }));
    expect((await t.call("GET", "/v1/collections", { token: real.key })).status).toBe(200);
  });

  test("a key stops working when it expires", async () => {
    const key = await makeKey({ scopes: ["read"], expires_at: new Date(Date.now() + 1500).toISOString() });
    const deadline = Date.now() + 10_000;
    let reply = await t.call("GET", "/v1/collections", { token: key.key });
    while (reply.status === 200 && Date.now() < deadline) {
      await Bun.sleep(100);
      reply = await t.call("GET", "/v1/collections", { token: key.key });
    }
    expectUnauthorized(reply);
  });
});

describe("two workers sharing one store", () => {
  test(`a key revoked through one is refused by the other within ${API_KEY_CACHE_MS} ms`, async () => {
    const second = await createTestApp({ backend: t.backend });
    try {
      const key = await makeKey({ scopes: ["read"] });
      // the second worker has read (and cached) the key
      expect((await second.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
      expect((await second.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
      expect((await t.call("DELETE", `/v1/keys/${key.id}`, { token: jwt })).status).toBe(204);
      const revokedAt = Date.now();
      for (;;) {
        const startedAt = Date.now();
        const reply = await second.call("GET", "/v1/collections", { token: key.key });
        if (reply.status === 401) {
          expectUnauthorized(reply);
          break;
        }
        expect(reply.status).toBe(200);
        // only a request that began within the bound may still be served
        expect(startedAt - revokedAt).toBeLessThan(API_KEY_CACHE_MS);
        await Bun.sleep(25);
      }
    } finally {
      await second.close();
    }
  });

  test("a key made through one worker works on the other at once", async () => {
    const second = await createTestApp({ backend: t.backend });
    try {
      const key = await makeKey({ scopes: ["read"] }, jwt, second);
      expect((await t.call("GET", "/v1/collections", { token: key.key })).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe("a key on /v1/search", () => {
  test("searches by meaning as its owner, and rerank stays premium-only for a key of a free owner", async () => {
    await t.backend.settle();
    const { key } = await makeKey({ scopes: ["read"], collections: [cid] });
    const reply = await t.call("POST", "/v1/search", { token: key, body: { query: "when is the heating maintained", collection_id: cid } });
    expect(reply.status).toBe(200);
    expect(reply.body.search_type).toBe("semantic");
    expect(reply.body.results[0].id).toBe(mid);
    const rerank = await t.call("POST", "/v1/search", { token: key, body: { query: "heating", collection_id: cid, rerank: true } });
    expect(rerank.status).toBe(403);
    expect(rerank.body.code).toBe("premium_required");
  });
});

describe("rate limits", () => {
  test("a key spends its owner's budget, at the tier the owner had when the key was made", async () => {
    const perMinute = { free: 3, starter: 5, pro: 7, enterprise: 9 };
    const limited = await createTestApp({ backend: t.backend, rateLimit: { limiter: new InProcessRateLimiter(), perMinute } });
    try {
      const user = `limited-${crypto.randomUUID()}`;
      const proJwt = await limited.token(user, "pro");
      const key = await makeKey({ scopes: ["read"] }, proJwt, limited); // 1 of 7
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.call("GET", "/v1/collections", { token: proJwt })).status);
      for (let i = 0; i < 3; i++) {
        const reply = await limited.call("GET", "/v1/collections", { token: key.key });
        expect(reply.headers.get("ratelimit-limit")).toBe("7");
        statuses.push(reply.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      const spent = await limited.call("GET", "/v1/collections", { token: key.key });
      expect(spent.status).toBe(429);
      expect(spent.body.detail).toContain("the pro plan allows 7 requests a minute");
      expect((await limited.call("GET", "/v1/collections", { token: proJwt })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
