/**
 * Search-cache generations in Redis, checked against PostgreSQL's ledger (src/stores/redis/cache.ts):
 * what happens to a generation when Redis forgets it or goes back to an older value. Real Redis
 * and PostgreSQL; the app-level consequence (no stale answer) is test/faults/redis-data-loss.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { openRedisCache } from "../../src/stores/redis/index.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { openRedisClient, RUN_ID, sharedGenerationLedger } from "./service-setup.ts";

const run = await servicesAvailable("cache generations", ["redis", "postgres"]);

describe.if(run)("cache generations: Redis checked against the PostgreSQL ledger", () => {
  const ledger = sharedGenerationLedger(`cache_generations_${RUN_ID}`);
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });
  const open = async () => {
    const [opened, fixture, admin] = await Promise.all([
      openRedisCache({ redis: productionConfig.redisUrl, log: silentLogger }),
      ledger(),
      openRedisClient(),
    ]);
    closers.push(opened.close, async () => admin.disconnect());
    const cache = opened.searchCache(fixture.ledger);
    return { ...fixture, cache, client: opened.redis, admin, key: (cid: string) => `memory-api:gen:${cid}` };
  };

  test("generations come from one sequence above any counter an earlier build kept in Redis", async () => {
    const { cache, newCollection } = await open();
    const [a, b] = await Promise.all([newCollection(), newCollection()]);
    const first = await cache.bumpGeneration(a);
    const second = await cache.bumpGeneration(b);
    expect(first).toBeGreaterThanOrEqual(2 ** 40);
    expect(second).not.toBe(first);
  });

  test("a generation Redis lost (FLUSHALL, eviction) comes back from the ledger, not from 0", async () => {
    const { cache, newCollection, admin, key } = await open();
    const cid = await newCollection();
    await cache.bumpGeneration(cid);
    const last = await cache.bumpGeneration(cid);
    expect(await cache.generation(cid)).toBe(last);

    await admin.del(key(cid));
    expect(await cache.generation(cid)).toBe(last);
    expect(await admin.get(key(cid))).toBe(String(last)); // raised again for every worker
    // the next change still goes above everything before it
    expect(await cache.bumpGeneration(cid)).toBeGreaterThan(last);
  });

  test("a Redis that went back (restored from an older snapshot) is raised to the ledger once its connections reopen", async () => {
    const { cache, newCollection, admin, client, key } = await open();
    const cid = await newCollection();
    const older = await cache.bumpGeneration(cid);
    const newer = await cache.bumpGeneration(cid);
    expect(await cache.generation(cid)).toBe(newer);

    // what a restore does: the older value back, and every connection dropped by the restart
    await admin.set(key(cid), String(older));
    const id = await client.client("ID");
    const reconnected = new Promise((resolve) => client.once("ready", resolve)); // it reconnects by itself
    await admin.client("KILL", "ID", String(id));
    await reconnected;
    expect(await cache.generation(cid)).toBe(newer);
    expect(await admin.get(key(cid))).toBe(String(newer));
  });

  test("a bump never lowers what Redis holds", async () => {
    const { cache, newCollection, admin, key } = await open();
    const cid = await newCollection();
    const bumped = await cache.bumpGeneration(cid);
    const higher = bumped + 1_000_000;
    await admin.set(key(cid), String(higher)); // another worker's raise that landed first, say
    const next = await cache.bumpGeneration(cid);
    expect(next).toBeGreaterThan(bumped);
    expect(await admin.get(key(cid))).toBe(String(Math.max(higher, next)));
  });

  test("a collection the ledger does not hold is never cached; a bump for it still moves on", async () => {
    const { cache, newCollection, stores, admin, key } = await open();
    const unknown = crypto.randomUUID();
    expect(await cache.generation(unknown)).toBeLessThan(0);
    expect(await cache.generation("not-a-uuid")).toBeLessThan(0);

    const cid = await newCollection();
    const before = await cache.bumpGeneration(cid);
    expect(await stores.collections.delete(`ledger-${RUN_ID}`, cid)).toBe(true);
    const after = await cache.bumpGeneration(cid); // what DELETE /collections/:id does
    expect(after).toBeGreaterThan(before);
    await admin.del(key(cid));
    expect(await cache.generation(cid)).toBeLessThan(0);
  });
});
