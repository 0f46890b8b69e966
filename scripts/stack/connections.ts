// The stack's connection settings, as `stack env` prints them: the test runner and the bench
// fill in the ones the caller did not set, so a stack whose Redis requires a password (issue 18)
// is reached with it without an `eval $(bun run stack env)` first.
import { milvusAddress } from "./milvus.ts";
import { neo4jUri } from "./neo4j.ts";
import { postgresUrl } from "./postgres.ts";
import { postgresReplicaUrl } from "./postgres-replica.ts";
import { redisUrl } from "./redis.ts";
import { redisClusterNodes } from "./redis-cluster.ts";
import { redisSentinels } from "./redis-sentinel.ts";
import { config } from "./config.ts";

export function stackConnections(): Record<string, string> {
  return {
    DATABASE_URL: postgresUrl(),
    DATABASE_REPLICA_URLS: postgresReplicaUrl(),
    REDIS_URL: redisUrl(),
    MILVUS_ADDRESS: milvusAddress(),
    // the standalone's query node and milvus-querynode: every collection is served by both
    MILVUS_REPLICAS: "2",
    NEO4J_URI: neo4jUri(),
  };
}

/**
 * The stack's other Redis topologies, for the suites that test them (test/stores/redis-topologies)
 * and the two-host bench: a server uses one only when REDIS_CLUSTER_NODES or REDIS_SENTINELS
 * (with REDIS_SENTINEL_MASTER) is set to these values; REDIS_URL still gives the password.
 */
export function stackRedisTopologies(): StackRedisTopologies {
  return {
    STACK_REDIS_CLUSTER_NODES: redisClusterNodes(),
    STACK_REDIS_SENTINELS: redisSentinels(),
    STACK_REDIS_SENTINEL_MASTER: config.redis.sentinelMaster,
  };
}

export type StackRedisTopologies = Record<"STACK_REDIS_CLUSTER_NODES" | "STACK_REDIS_SENTINELS" | "STACK_REDIS_SENTINEL_MASTER", string>;

/** The topologies' settings as `env` gives them, each the stack's own where `env` lacks it. */
export function redisTopologiesIn(env: Record<string, string | undefined>): StackRedisTopologies {
  const stack = stackRedisTopologies();
  return {
    STACK_REDIS_CLUSTER_NODES: env.STACK_REDIS_CLUSTER_NODES ?? stack.STACK_REDIS_CLUSTER_NODES,
    STACK_REDIS_SENTINELS: env.STACK_REDIS_SENTINELS ?? stack.STACK_REDIS_SENTINELS,
    STACK_REDIS_SENTINEL_MASTER: env.STACK_REDIS_SENTINEL_MASTER ?? stack.STACK_REDIS_SENTINEL_MASTER,
  };
}

/** `env` with each of the stack's connection settings it lacks filled in. */
export function withStackConnections<T extends Record<string, string | undefined>>(env: T): T & Record<string, string> {
  const filled: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries({ ...stackConnections(), ...stackRedisTopologies() })) filled[name] ??= value;
  return filled as T & Record<string, string>;
}
