/**
 * The Redis adapters on a real Redis Cluster (three masters) and through a real Sentinel, as
 * REDIS_CLUSTER_NODES / REDIS_SENTINELS configure them (scripts/stack starts both): the same
 * contracts as on one server, plus what only a cluster can get wrong (a script or transaction
 * whose keys hash to different slots), and the move of revocations to their hash-tagged keys.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Cluster } from "ioredis";
import { loadConfig, type RedisTopology } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { TieredSearchCache } from "../../src/stores/in-process/tiered-cache.ts";
import { createRedisClient, type RedisClient } from "../../src/stores/redis/client.ts";
import { openRedisCache } from "../../src/stores/redis/index.ts";
import { RedisPopularity } from "../../src/stores/redis/popularity.ts";
import { RedisRateLimiter } from "../../src/stores/redis/rate-limiter.ts";
import { RedisRevocationStore } from "../../src/stores/redis/revocations.ts";
import { runRateLimiterContract } from "../ports/rate-limiter.contract.ts";
import { runSearchCacheContract } from "../ports/search-cache.contract.ts";
import { runSearchPopularityContract } from "../ports/search-popularity.contract.ts";
import { deleteKeysEverywhere } from "../support/redis-keys.ts";
import { productionConfig, redisTopologyEnv, servicesAvailable } from "../support/services.ts";
import { RUN_ID, sharedGenerationLedger } from "./service-setup.ts";

const topologyOf = (env: Record<string, string>): RedisTopology =>
  loadConfig({ MEMORY_MODE: "embedded", REDIS_URL: productionConfig.redisUrl, ...env }).production.redis;

// the stack's Sentinel answers to the same password as its Redis
const sentinelPassword = new URL(productionConfig.redisUrl).password;

const topologies: { name: string; services: ("redis-cluster" | "redis-sentinel")[]; topology: () => RedisTopology }[] = [
  {
    name: "Redis Cluster",
    services: ["redis-cluster"],
    topology: () => topologyOf({ REDIS_CLUSTER_NODES: redisTopologyEnv().STACK_REDIS_CLUSTER_NODES }),
  },
  {
    name: "Redis through Sentinel",
    services: ["redis-sentinel"],
    topology: () => {
      const { STACK_REDIS_SENTINELS, STACK_REDIS_SENTINEL_MASTER } = redisTopologyEnv();
      return topologyOf({
        REDIS_SENTINELS: STACK_REDIS_SENTINELS,
        REDIS_SENTINEL_MASTER: STACK_REDIS_SENTINEL_MASTER,
        ...(sentinelPassword ? { REDIS_SENTINEL_PASSWORD: decodeURIComponent(sentinelPassword) } : {}),
      });
    },
  },
];

async function connected(topology: RedisTopology): Promise<RedisClient> {
  const client = createRedisClient(topology, silentLogger);
  await client.connect();
  return client;
}

for (const { name, services, topology } of topologies) {
  const run = await servicesAvailable(`${name} contracts`, [...services, "postgres"]);

  describe.if(run)(name, () => {
    const ledger = sharedGenerationLedger(`redis_topology_${name.replaceAll(/\W/g, "").toLowerCase()}_${RUN_ID}`);
    const searchCache = async () => {
      const [opened, { ledger: generations, newCollection }] = await Promise.all([openRedisCache({ redis: topology(), log: silentLogger }), ledger()]);
      return { cache: opened.searchCache(generations), newCollection, cleanup: opened.close };
    };

    runSearchCacheContract(`${name}: SearchCache`, searchCache);

    runSearchCacheContract(`${name}: tiered SearchCache`, async () => {
      const { cache, ...rest } = await searchCache();
      return { cache: new TieredSearchCache(cache, { maxEntries: 1000, maxTtlSeconds: 900 }), ...rest };
    });

    runSearchPopularityContract(`${name}: SearchPopularity`, async (options) => {
      const client = await connected(topology());
      const prefix = `memory-api-test:pop:${crypto.randomUUID()}:`;
      return {
        popularity: new RedisPopularity(client, { ...options, prefix }),
        cleanup: async () => {
          await deleteKeysEverywhere(client, `${prefix}*`);
          client.disconnect();
        },
      };
    });

    runRateLimiterContract(`${name}: RateLimiter`, async () => {
      const client = await connected(topology());
      return { limiter: new RedisRateLimiter(client, silentLogger), cleanup: async () => client.disconnect() };
    });

    test(`${name}: revocations are recorded, versioned and read back`, async () => {
      const client = await connected(topology());
      const prefix = `memory-api-test:${crypto.randomUUID()}:`;
      try {
        const store = new RedisRevocationStore(client, prefix);
        const before = await store.version();
        const later = Date.now() + 60_000;
        await store.revokeJti("jti-1", later);
        await store.revokeSub("user-1", 1_000, later);
        await store.revokeSub("user-1", 500, later); // never lowers what was revoked
        expect(await store.version()).not.toBe(before);
        const snapshot = await store.load(Date.now());
        expect([...snapshot.jtis.keys()]).toEqual(["jti-1"]);
        expect(snapshot.subs.get("user-1")).toBe(1_000);
      } finally {
        await deleteKeysEverywhere(client, `${prefix}*`);
        client.disconnect();
      }
    });
  });
}

const clusterUp = await servicesAvailable("Redis Cluster slots", ["redis-cluster"]);
describe.if(clusterUp)("Redis Cluster: keys spread over the masters, each script on one slot", () => {
  let client: Cluster;
  const prefix = `memory-api-test:spread:${crypto.randomUUID()}:`;
  afterAll(async () => {
    await deleteKeysEverywhere(client, `${prefix}*`);
    client.disconnect();
  });

  test("popularity of 30 collections lands on more than one master, and every record and top answers", async () => {
    const opened = await connected(topologyOf({ REDIS_CLUSTER_NODES: redisTopologyEnv().STACK_REDIS_CLUSTER_NODES }));
    expect(opened).toBeInstanceOf(Cluster);
    client = opened as Cluster;
    expect(client.nodes("master").length).toBeGreaterThanOrEqual(3);
    const popularity = new RedisPopularity(client, { halfLifeMs: 3_600_000, prefix });
    const collections = Array.from({ length: 30 }, () => crypto.randomUUID());
    for (const id of collections) await popularity.record(id, new Map([["q", 2]]));
    const holders = await Promise.all(client.nodes("master").map(async (node) => (await node.keys(`${prefix}*`)).length));
    expect(holders.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect((await popularity.topCollections(100)).sort()).toEqual([...collections].sort());
    for (const id of collections.slice(0, 5)) expect(await popularity.top(id, 5)).toEqual([{ descriptor: "q", score: expect.closeTo(2, 3) }]);
  });

  test("a script whose keys are on different slots is refused by the cluster: why the keys carry hash tags", async () => {
    client ??= (await connected(topologyOf({ REDIS_CLUSTER_NODES: redisTopologyEnv().STACK_REDIS_CLUSTER_NODES }))) as Cluster;
    // two keys without a shared tag, chosen to hash to different slots
    const a = `${prefix}a`;
    let b = `${prefix}b`;
    for (let i = 0; (await client.cluster("KEYSLOT", b)) === (await client.cluster("KEYSLOT", a)); i++) b = `${prefix}b${i}`;
    // asked of a node directly: the cluster client would refuse it before sending
    const node = client.nodes("master")[0]!;
    await expect(node.eval("return redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])", 2, a, b)).rejects.toThrow(/CROSSSLOT/);
    const tagged = [`${prefix}{t}:a`, `${prefix}{t}:b`];
    expect(await client.eval("redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 2)", 2, ...tagged)).toBe("OK");
  });
});

const sentinelUp = await servicesAvailable("Redis Sentinel discovery", ["redis-sentinel"]);
describe.if(sentinelUp)("Redis through Sentinel: the master is found by name", () => {
  test("an unknown master name is a connection error, not a hang", async () => {
    const client = createRedisClient(
      {
        kind: "sentinel",
        url: productionConfig.redisUrl,
        sentinels: redisTopologyEnv().STACK_REDIS_SENTINELS.split(",").map((hp) => ({ host: hp.split(":")[0]!, port: Number(hp.split(":")[1]) })),
        master: "no-such-master",
        sentinelPassword: sentinelPassword ? decodeURIComponent(sentinelPassword) : undefined,
      },
      silentLogger,
    );
    try {
      await expect(client.connect()).rejects.toThrow();
    } finally {
      client.disconnect();
    }
  });
});

const redisUp = await servicesAvailable("revocation key move", ["redis"]);
describe.if(redisUp)("revocations kept under the names from before the hash tag", () => {
  test("are adopted into the tagged keys before the first read, merged, and the old keys removed", async () => {
    const client = createRedisClient(productionConfig.redisUrl, silentLogger);
    await client.connect();
    const prefix = `memory-api-test:${crypto.randomUUID()}:`;
    try {
      const later = Date.now() + 60_000;
      await client.zadd(`${prefix}revoked:jti`, later, "old-jti");
      await client.hset(`${prefix}revoked:sub`, "old-user", "2000", "both-user", "100");
      await client.zadd(`${prefix}revoked:sub-forget`, later, "old-user", later, "both-user");
      const store = new RedisRevocationStore(client, prefix);
      await store.revokeSub("both-user", 300, later); // a newer revocation already under the new keys
      const snapshot = await store.load(Date.now());
      expect(snapshot.jtis.has("old-jti")).toBe(true);
      expect(snapshot.subs.get("old-user")).toBe(2000);
      expect(snapshot.subs.get("both-user")).toBe(300); // the higher of the two
      expect(await client.exists(`${prefix}revoked:jti`, `${prefix}revoked:sub`, `${prefix}revoked:sub-forget`)).toBe(0);
    } finally {
      await deleteKeysEverywhere(client, `${prefix}*`);
      client.disconnect();
    }
  });
});
