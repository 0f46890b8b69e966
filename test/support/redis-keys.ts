import { Cluster } from "ioredis";
import type { RedisClient } from "../../src/stores/redis/client.ts";

/** Every key matching `pattern`, on every master of a cluster (KEYS asks one node only). */
export async function keysEverywhere(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  return (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat();
}

/** Deletes what a test wrote under its own prefix, one key per DEL (a cluster refuses a DEL over several slots). */
export async function deleteKeysEverywhere(client: RedisClient, pattern: string): Promise<void> {
  await Promise.all((await keysEverywhere(client, pattern)).map((key) => client.del(key)));
}
