/**
 * Attack (issue 18, item 5): nothing bounded what one tenant stored: collections, memories or
 * bytes. Now each tier has quotas; over one, a 403 problem `quota_exceeded` that names it and
 * its limit. Deleting makes room again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { backendName } from "../support/backend";
import { DEFAULT_TIER_LIMITS } from "../../src/config";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    tierLimits: { ...DEFAULT_TIER_LIMITS, free: { collections: 2, memories: 5, bytes: 4000, writeMemoriesInFlight: 100 } },
  });
}, 120_000);
afterAll(() => t.close(), 60_000);

function expectQuota(reply: Awaited<ReturnType<TestApp["call"]>>, quota: string, limit: number) {
  expect(reply.status).toBe(403);
  expect(reply.headers.get("content-type")).toContain("application/problem+json");
  expect(reply.body.code).toBe("quota_exceeded");
  expect(reply.body.field).toBe(`quota.${quota}`);
  expect(reply.body.detail).toContain(`quota "${quota}" of the free plan is ${limit}`);
}

describe(`quotas per tier (${backendName()})`, () => {
  test("collections: the third is refused, naming the quota; after a delete there is room", async () => {
    const token = await t.token(`hoarder-${crypto.randomUUID()}`, "free");
    const first = await newCollection(t, token);
    await newCollection(t, token);
    expectQuota(await t.call("POST", "/v1/collections", { token, body: { name: "third" } }), "collections", 2);
    expect((await t.call("DELETE", `/v1/collections/${first}`, { token })).status).toBe(204);
    expect((await t.call("POST", "/v1/collections", { token, body: { name: "third" } })).status).toBe(201);
  });

  test("memories: past five, refused", async () => {
    const token = await t.token(`writer-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    const add = (n: number) =>
      t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: Array.from({ length: n }, (_, i) => ({ content: `m${i}` })) } });
    expect((await add(4)).status).toBe(201);
    expectQuota(await add(2), "memories", 5);
    expect((await add(1)).status).toBe(201);
  });

  test("bytes: a memory that would pass 4000 bytes is refused", async () => {
    const token = await t.token(`bulky-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ content: "x".repeat(5000) }] } });
    expectQuota(reply, "bytes", 4000);
  });

  test("another tier has its own quotas", async () => {
    const token = await t.token(`pro-${crypto.randomUUID()}`, "pro");
    for (let i = 0; i < 3; i++) await newCollection(t, token);
  });
});
