/**
 * Attack (issue 18, item 5, found by the bench's abuse scenario): a client over its budget kept
 * sending 1.5 MB batches; each was refused 429, but only after its body had been read, parsed
 * and validated, so the refusals alone kept both cores busy. Now a user refused a request is
 * refused at arrival until its Retry-After, before the body is parsed: a malformed body is a
 * 429 (not a 400), and another user is unaffected.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";

let t: TestApp;
const rejected: string[] = [];
beforeAll(async () => {
  t = await createTestApp({
    rateLimit: { limiter: new InProcessRateLimiter(), perMinute: { free: 3, starter: 1000, pro: 1000, enterprise: 1000 }, onRejected: (tier) => rejected.push(tier) },
  });
}, 120_000);
afterAll(() => t.close(), 60_000);

describe("a spent budget is refused before the body is parsed", () => {
  test("after the first 429, a malformed body is a 429 with Retry-After, not a 400; others go on", async () => {
    const token = await t.token(`spender-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    await t.call("GET", "/v1/collections", { token });
    await t.call("GET", "/v1/collections", { token });
    expect((await t.call("GET", "/v1/collections", { token })).status).toBe(429);
    const garbage = await t.call("POST", `/v1/collections/${cid}/memories`, { token, raw: `{"memories": [${"x".repeat(100_000)}` });
    expect(garbage.status).toBe(429);
    expect(garbage.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(garbage.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(garbage.headers.get("x-request-id")).toBeTruthy();
    expect(rejected.length).toBe(2); // both refusals are counted

    const other = await t.token(`bystander-${crypto.randomUUID()}`, "free");
    const malformed = await t.call("POST", "/v1/collections", { token: other, raw: "{not json" });
    expect(malformed.status).toBe(400);
  });
});
