import { MilvusClient } from "@zilliz/milvus2-sdk-node";

/**
 * Milvus refuses to load a loaded collection with another replica count, and a worker that asks
 * for one fails its warm-up (by design: src/stores/milvus/connection.ts). The bench switches
 * counts between clusters it owns (BENCH_MILVUS_REPLICAS, or a scenario's override), with no
 * worker running: it releases the collection so the next cluster loads it with its own count.
 * Returns the count it was loaded with when it released it, else undefined.
 */
export async function releaseIfOtherReplicaCount(address: string, collection: string, replicas: number): Promise<number | undefined> {
  const client = new MilvusClient({ address, logLevel: "error" });
  try {
    const described = await client.describeCollection({ collection_name: collection });
    if (described.status.error_code !== "Success") return undefined; // not created yet: the cluster creates it
    const answer = await client.getReplicas({ collectionID: described.collectionID });
    const loaded = answer.replicas?.length ?? 0;
    if (loaded === 0 || loaded === replicas) return undefined;
    await client.releaseCollection({ collection_name: collection });
    return loaded;
  } finally {
    await client.closeConnection();
  }
}
