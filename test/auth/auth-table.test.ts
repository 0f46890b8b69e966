import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app";
import { accessClaims, hs256, nowSeconds, unsigned } from "../support/jwt";

let t: TestApp;
let rsa: CryptoKeyPair;
let publicPem: string;
beforeAll(async () => {
  t = await createTestApp();
  rsa = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", rsa.publicKey)).toString("base64");
  publicPem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
});
afterAll(() => t.close());

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");

/** A token signed RS256 with a key pair of the attacker's: the algorithm the server does not accept. */
async function rs256(payload: Record<string, unknown>): Promise<string> {
  const signingInput = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", rsa.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64url(new Uint8Array(signature))}`;
}

const rejected: [string, () => Promise<Record<string, string>>][] = [
  ["no Authorization header", async () => ({})],
  ["a non-Bearer scheme", async () => ({ authorization: `Basic ${btoa("a:b")}` })],
  ["Bearer with nothing after it", async () => ({ authorization: "Bearer " })],
  ["garbage", async () => ({ authorization: "Bearer not-a-jwt" })],
  ["three garbage segments", async () => ({ authorization: "Bearer aaa.bbb.ccc" })],
  ["alg none", async () => ({ authorization: `Bearer ${unsigned(accessClaims("alice"))}` })],
  ["alg none with a signature of the right key", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice"), { alg: "none" })}`,
  })],
  ["the wrong key", async () => ({
    authorization: `Bearer ${await hs256("another-secret-of-at-least-32-characters!!", accessClaims("alice"))}`,
  })],
  ["a tampered payload", async () => {
    const good = await hs256(TEST_SECRET, accessClaims("alice"));
    const [h, , s] = good.split(".");
    const forged = Buffer.from(JSON.stringify(accessClaims("mallory", { tier: "enterprise" }))).toString("base64url");
    return { authorization: `Bearer ${h}.${forged}.${s}` };
  }],
  ["an expired token", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { exp: nowSeconds() - 10 }))}`,
  })],
  ["a refresh token (type != access)", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { type: "refresh" }))}`,
  })],
  ["no type claim", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { type: undefined }))}`,
  })],
  ["no exp claim", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { exp: undefined }))}`,
  })],
  ["no sub claim", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { sub: undefined }))}`,
  })],
  ["an unknown tier", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { tier: "platinum" }))}`,
  })],
  ["a not-yet-valid token (nbf in the future)", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { nbf: nowSeconds() + 3600 }))}`,
  })],
  ["an oversized token", async () => ({ authorization: `Bearer ${"a".repeat(5000)}.${"b".repeat(10)}.c` })],
  // What the table of issue #7 names, each on its own:
  ["HS/RS confusion: RS256 signed with an attacker's key pair", async () => ({
    authorization: `Bearer ${await rs256(accessClaims("alice"))}`,
  })],
  ["HS/RS confusion: HS256 keyed with an RSA public key PEM", async () => ({
    authorization: `Bearer ${await hs256(publicPem, accessClaims("alice"))}`,
  })],
  ["HS/RS confusion: the right secret under an RS256 header", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice"), { alg: "RS256" })}`,
  })],
  ["another HMAC algorithm (HS512 header) with the right secret", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice"), { alg: "HS512" })}`,
  })],
  ["no iat claim", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { iat: undefined }))}`,
  })],
  ["exp that is not a number", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { exp: "tomorrow" }))}`,
  })],
  ["an empty sub", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims(""))}`,
  })],
  ["a 16 KB token, validly signed", async () => ({
    authorization: `Bearer ${await hs256(TEST_SECRET, accessClaims("alice", { pad: "x".repeat(16 * 1024) }))}`,
  })],
  ["a 16 KB garbage token", async () => ({ authorization: `Bearer ${"g".repeat(16 * 1024)}` })],
  ["binary garbage", async () => ({ authorization: `Bearer ${b64url(crypto.getRandomValues(new Uint8Array(96)))}` })],
  ["a JWT with two dots and nothing else", async () => ({ authorization: "Bearer .." })],
  ["a JWE-shaped token (five segments)", async () => ({ authorization: "Bearer a.b.c.d.e" })],
];

describe("auth: every bad token is a 401 problem", () => {
  for (const [name, headers] of rejected) {
    test(name, async () => {
      const reply = await t.call("GET", "/v1/collections", { headers: await headers() });
      expect(reply.status).toBe(401);
      expect(reply.headers.get("content-type")).toContain("application/problem+json");
      expect(reply.headers.get("www-authenticate")).toContain("Bearer");
      expect(reply.body).toMatchObject({ status: 401, code: "unauthorized", title: expect.any(String) });
      expect(reply.body.detail.length).toBeGreaterThan(5);
    });
  }

  test("the 401 says why when it can: expired", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("alice", { exp: nowSeconds() - 10 }));
    const reply = await t.call("GET", "/v1/collections", { token });
    expect(reply.body.detail).toContain("expired");
  });

  test("the 401 says why when it can: not an access token", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("alice", { type: "refresh" }));
    const reply = await t.call("GET", "/v1/collections", { token });
    expect(reply.body.detail).toContain("not an access token");
  });
});

describe("auth: good tokens", () => {
  test("a token signed independently with the right key is accepted", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("alice"));
    const reply = await t.call("GET", "/v1/collections", { token });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ collections: [], next_cursor: null });
  });

  test("a missing tier means free", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("bob", { tier: undefined }));
    const reply = await t.call("GET", "/v1/collections", { token });
    expect(reply.status).toBe(200);
  });

  test("a token that expires is refused afterwards even though it was accepted (and memoised) before", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("carol", { exp: nowSeconds() + 2 }));
    expect((await t.call("GET", "/v1/collections", { token })).status).toBe(200);
    await Bun.sleep(3100);
    expect((await t.call("GET", "/v1/collections", { token })).status).toBe(401);
  });

  test("health needs no token", async () => {
    const reply = await t.call("GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: "healthy", version: "1.0.0" });
  });
});

/** A minimal valid instance of a (JSON) schema: enough to get past validation to the ownership check. */
function minimal(schema: any, name: string, collectionId: string): unknown {
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (schema.anyOf && !type) return minimal(schema.anyOf[schema.anyOf.length - 1], name, collectionId);
  switch (type) {
    case "string":
      return name === "collection_id" ? collectionId : "intrusion";
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return Array.from({ length: schema.minItems ?? 1 }, () => minimal(schema.items, name, collectionId));
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = minimal(schema.properties[key], key, collectionId);
      // a PATCH needs something to change: its content, or else its first field
      if (Object.keys(out).length === 0 && schema.properties?.content) out.content = "defaced";
      else if (Object.keys(out).length === 0 && schema.properties) {
        const [key] = Object.keys(schema.properties);
        if (key) out[key] = minimal(schema.properties[key], key, collectionId);
      }
      return out;
    }
  }
  return null;
}

describe("tenancy: every documented operation on a collection is a 404 for another user", () => {
  test("derived from /openapi.json, so a new route is covered the day it is added", async () => {
    const alice = await t.token("tenant-alice");
    const bob = await t.token("tenant-bob");
    const created = await t.call("POST", "/v1/collections", { token: alice, body: { name: "tenancy-table" } });
    const cid = created.body.id as string;
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token: alice,
      body: { memories: [{ id: "secret", content: "Alice keeps the spare key under the blue pot." }] },
    });
    expect(added.status).toBe(201);

    const doc = (await t.call("GET", "/openapi.json")).body;
    const tried: string[] = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
        const takesCollection = template.includes("{collection_id}") || bodySchema?.properties?.collection_id;
        if (!takesCollection) continue;
        const path = template.replace("{collection_id}", cid).replace(/\{[a-z_]+\}/g, "secret");
        const body = bodySchema ? minimal(bodySchema, "", cid) : undefined;
        // an NDJSON body (import) goes as one line of the documented line schema, with its type
        const lineSchema = op.requestBody?.content?.["application/x-ndjson"]?.schema;
        const ndjson = lineSchema ? { raw: JSON.stringify(minimal(lineSchema, "", cid)) + "\n", headers: { "content-type": "application/x-ndjson" } } : {};
        const reply = await t.call(method.toUpperCase(), path, { token: bob, body, ...ndjson });
        expect({ op: `${method.toUpperCase()} ${template}`, status: reply.status, code: reply.body?.code }).toEqual({
          op: `${method.toUpperCase()} ${template}`,
          status: 404,
          code: "not_found",
        });
        tried.push(`${method.toUpperCase()} ${template}`);
      }
    }
    expect(tried.length).toBeGreaterThanOrEqual(8);

    // and nothing of Alice's changed
    const mine = await t.call("GET", `/v1/collections/${cid}/memories/secret`, { token: alice });
    expect(mine.body.content).toBe("Alice keeps the spare key under the blue pot.");
    expect((await t.call("GET", `/v1/collections/${cid}/memories`, { token: alice })).body.memories).toHaveLength(1);
    expect((await t.call("GET", "/v1/collections", { token: bob })).body.collections).toEqual([]);
  });
});
