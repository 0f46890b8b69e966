/**
 * Attack (issue 18, item 5): five 1,000-memory batches sent at once by one tenant filled the
 * worker's shared embedding queue, and every tenant got 503. Now a tenant's memories being
 * written at once on a worker are capped by tier: a lone batch always passes, the next one over
 * the cap is a 429 with Retry-After, and another tenant's writes keep succeeding meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { backendName } from "../support/backend";
import { DEFAULT_TIER_LIMITS } from "../../src/config";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ tierLimits: { ...DEFAULT_TIER_LIMITS, free: { ...DEFAULT_TIER_LIMITS.free, writeMemoriesInFlight: 300 } } });
}, 120_000);
afterAll(() => t.close(), 60_000);

const batch = (n: number, tag: string) => ({ memories: Array.from({ length: n }, (_, i) => ({ content: `${tag} memory ${i}: the boiler is serviced every October` })) });

describe(`per-tenant write concurrency (${backendName()})`, () => {
  test("five 250-memory batches at once: the ones over the cap are 429 with Retry-After; another tenant writes meanwhile", async () => {
    const flooder = await t.token(`flooder-${crypto.randomUUID()}`, "free");
    const neighbour = await t.token(`neighbour-${crypto.randomUUID()}`, "free");
    const [floodCid, neighbourCid] = [await newCollection(t, flooder), await newCollection(t, neighbour)];
    const flood = Array.from({ length: 5 }, (_, i) => t.call("POST", `/v1/collections/${floodCid}/memories`, { token: flooder, body: batch(250, `f${i}`) }));
    const neighbourReply = await t.call("POST", `/v1/collections/${neighbourCid}/memories`, { token: neighbour, body: batch(20, "n") });
    const replies = await Promise.all(flood);
    expect(neighbourReply.status).toBe(201);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBe(1); // 250 in flight; 250 more would pass 300
    expect(statuses.filter((s) => s === 429).length).toBe(4);
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body.code).toBe("too_many_concurrent_writes");
    expect(refused.headers.get("retry-after")).toBe("1");
  }, 120_000);

  test("once the batch in flight is done, the tenant writes again", async () => {
    const token = await t.token(`sequential-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    for (let i = 0; i < 3; i++) expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: batch(250, `s${i}`) })).status).toBe(201);
  }, 120_000);
});
