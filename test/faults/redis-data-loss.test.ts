/**
 * Redis loses its data, or comes back from an older snapshot, while workers keep answers in their
 * own first-level caches: no answer computed before a write may be served after it. Generations
 * are checked against PostgreSQL (src/stores/redis/cache.ts); counted in Redis alone they went
 * back, and the first-level caches served the answers kept under the old numbers. Production
 * backend only; keyword search, which has no roll-forward to mend a stale hit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log";
import { createRedisClient, type RedisClient } from "../../src/stores/redis/client";
import { backendName } from "../support/backend";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { deleteKeysEverywhere } from "../support/redis-keys";
import { productionConfig } from "../support/services";

const production = backendName() === "production";

describe.if(production)("faults: Redis loses or rewinds its data", () => {
  let t: TestApp;
  let token: string;
  let admin: RedisClient;
  beforeAll(async () => {
    t = await createTestApp();
    token = await t.token(`redis-loss-${crypto.randomUUID()}`, "pro");
    admin = createRedisClient(productionConfig.redis, silentLogger);
    await admin.connect();
  });
  afterAll(async () => {
    admin?.disconnect();
    await t?.close();
  });

  const add = async (cid: string, content: string) => {
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ content }] } });
    expect(reply.status).toBe(201);
  };
  const search = (cid: string) =>
    t.call("POST", "/v1/search", { token, body: { query: "kettle", collection_id: cid, search_type: "keyword", top_k: 10 } });
  const contents = async (cid: string) => {
    const reply = await search(cid);
    expect(reply.status).toBe(200);
    return (reply.body.results as { content: string }[]).map((r) => r.content).sort();
  };
  const cachedTwice = async (cid: string, expected: string[]) => {
    expect(await contents(cid)).toEqual([...expected].sort());
    const again = await search(cid);
    expect(again.body.cached).toBe(true);
    expect((again.body.results as unknown[]).length).toBe(expected.length);
  };

  test("a collection's keys lost from Redis: every later write is seen by the next search", async () => {
    const cid = await newCollection(t, token);
    const written = ["The kettle is on the stove."];
    await add(cid, written[0]!);
    await cachedTwice(cid, written);
    written.push("The kettle was moved to the shelf.");
    await add(cid, written[1]!);
    await cachedTwice(cid, written);

    // what FLUSHALL, a restart without a snapshot or an eviction does to this collection
    await deleteKeysEverywhere(admin, `memory-api:gen:${cid}`);
    await deleteKeysEverywhere(admin, `memory-api:search:${cid}:*`);

    for (const content of ["The kettle whistles when it boils.", "The kettle is descaled every month."]) {
      written.push(content);
      await add(cid, content);
      expect(await contents(cid)).toEqual([...written].sort());
    }
  });

  test("Redis back on an older generation after a restart: no answer older than the last write is served", async () => {
    const cid = await newCollection(t, token);
    await add(cid, "The kettle is on the stove.");
    await cachedTwice(cid, ["The kettle is on the stove."]);
    const older = await admin.get(`memory-api:gen:${cid}`);
    expect(older).not.toBeNull();
    await add(cid, "The kettle was moved to the shelf.");
    const latest = ["The kettle is on the stove.", "The kettle was moved to the shelf."];
    await cachedTwice(cid, latest);

    // a restore from an older snapshot: that value back, and every connection dropped by the restart
    await admin.set(`memory-api:gen:${cid}`, older!);
    await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes");
    const deadline = Date.now() + 15_000;
    let reply = await search(cid);
    while (reply.body.cached !== true && Date.now() < deadline) {
      expect(reply.body.results.length).toBe(2); // uncached while the app reconnects, and current
      await Bun.sleep(100);
      reply = await search(cid);
    }
    expect(reply.body.cached).toBe(true);
    expect(await contents(cid)).toEqual(latest);
  });
});
