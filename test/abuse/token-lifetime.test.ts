/**
 * Attack (issue 18, item 8): a token minted for years, or dated in the future, or minted for
 * another service, is accepted for its whole life. Each is now a 401 problem.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app";
import { accessClaims, hs256, nowSeconds } from "../support/jwt";
import { createTokenService } from "../../src/auth/tokens";

let plain: TestApp;
let scoped: TestApp;

beforeAll(async () => {
  plain = await createTestApp();
  scoped = await createTestApp({
    tokens: createTokenService(TEST_SECRET, {
      policy: { maxAgeSeconds: 7 * 86_400, clockSkewSeconds: 30, issuer: "https://auth.example", audience: "memory-api" },
    }),
  });
});
afterAll(async () => {
  await plain.close();
  await scoped.close();
});

const list = (t: TestApp, token: string) => t.call("GET", "/v1/collections", { token });

function expectUnauthorized(reply: Awaited<ReturnType<typeof list>>, detail: string) {
  expect(reply.status).toBe(401);
  expect(reply.headers.get("content-type")).toContain("application/problem+json");
  expect(reply.body.code).toBe("unauthorized");
  expect(reply.body.detail).toContain(detail);
}

describe("token lifetime (default policy: 30 days, 60 s clock skew)", () => {
  test("a token valid for a year is refused", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("long-lived", { exp: nowSeconds() + 365 * 86_400 }));
    expectUnauthorized(await list(plain, token), "lifetime exceeds the maximum of 2592000 s");
  });

  test("a token valid for 30 days is accepted", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("month", { exp: nowSeconds() + 30 * 86_400 }));
    expect((await list(plain, token)).status).toBe(200);
  });

  test("an iat an hour in the future is refused", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("future", { iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 }));
    expectUnauthorized(await list(plain, token), "issued in the future");
  });

  test("an iat within the clock skew is accepted", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("skewed", { iat: nowSeconds() + 20 }));
    expect((await list(plain, token)).status).toBe(200);
  });

  test("a memoised token is not a way around the policy: the first use decides", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("twice", { exp: nowSeconds() + 365 * 86_400 }));
    expect((await list(plain, token)).status).toBe(401);
    expect((await list(plain, token)).status).toBe(401);
  });
});

describe("issuer and audience, when configured", () => {
  const good = { iss: "https://auth.example", aud: "memory-api" };

  test("the expected iss and aud are accepted (aud may be an array)", async () => {
    expect((await list(scoped, await hs256(TEST_SECRET, accessClaims("iss-ok", good)))).status).toBe(200);
    const array = { ...good, aud: ["other", "memory-api"] };
    expect((await list(scoped, await hs256(TEST_SECRET, accessClaims("aud-array", array)))).status).toBe(200);
  });

  test("another issuer, or no issuer, is refused", async () => {
    expectUnauthorized(await list(scoped, await hs256(TEST_SECRET, accessClaims("iss-bad", { ...good, iss: "https://evil.example" }))), "issuer");
    expectUnauthorized(await list(scoped, await hs256(TEST_SECRET, accessClaims("iss-none", { aud: "memory-api" }))), "issuer");
  });

  test("a token for another audience is refused", async () => {
    expectUnauthorized(await list(scoped, await hs256(TEST_SECRET, accessClaims("aud-bad", { ...good, aud: "billing" }))), "audience");
  });

  test("the configured maximum age applies (7 days here)", async () => {
    const token = await hs256(TEST_SECRET, accessClaims("eight-days", { ...good, exp: nowSeconds() + 8 * 86_400 }));
    expectUnauthorized(await list(scoped, token), "maximum of 604800 s");
  });

  test("tokens the service signs carry the configured iss and aud, and a jti", async () => {
    const token = await scoped.token("signed-here");
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ iss: "https://auth.example", aud: "memory-api" });
    expect(typeof claims.jti).toBe("string");
    expect((await list(scoped, token)).status).toBe(200);
  });
});
