import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app";
import { accessClaims, hs256, nowSeconds, unsigned } from "../support/jwt";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

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
    expect(reply.body).toEqual({ collections: [] });
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
