// The stack's connection settings, as `stack env` prints them: the test runner and the bench
// fill in the ones the caller did not set, so a stack whose Redis requires a password (issue 18)
// is reached with it without an `eval $(bun run stack env)` first.
import { milvusAddress } from "./milvus.ts";
import { neo4jUri } from "./neo4j.ts";
import { postgresUrl } from "./postgres.ts";
import { postgresReplicaUrl } from "./postgres-replica.ts";
import { redisUrl } from "./redis.ts";

export function stackConnections(): Record<string, string> {
  return {
    DATABASE_URL: postgresUrl(),
    DATABASE_REPLICA_URLS: postgresReplicaUrl(),
    REDIS_URL: redisUrl(),
    MILVUS_ADDRESS: milvusAddress(),
    NEO4J_URI: neo4jUri(),
  };
}

/** `env` with each of the stack's connection settings it lacks filled in. */
export function withStackConnections<T extends Record<string, string | undefined>>(env: T): T & Record<string, string> {
  const filled: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(stackConnections())) filled[name] ??= value;
  return filled as T & Record<string, string>;
}
