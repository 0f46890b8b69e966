import { DataType, type FieldType } from "@zilliz/milvus2-sdk-node";
import type { Logger } from "../../log.ts";
import { itself, type MilvusConnection, nested } from "./connection.ts";
import { checkStatus } from "./errors.ts";

/** Field names of the memories collection. */
export const FIELD = {
  pk: "pk",
  collectionId: "collection_id",
  memoryId: "memory_id",
  embedding: "embedding",
  metadata: "metadata",
  createdAt: "created_at",
} as const;

/** VarChar limits, in bytes of UTF-8 (the API allows 128-character memory ids and uuid collection ids). */
export const MAX_COLLECTION_ID_BYTES = 256;
export const MAX_MEMORY_ID_BYTES = 1024;
const MAX_PK_BYTES = MAX_COLLECTION_ID_BYTES + 1 + MAX_MEMORY_ID_BYTES;

/** describeIndex's code for "no index yet". */
const INDEX_NOT_FOUND = 700;

/** Milvus' own cap on one JSON value. */
export const MAX_JSON_BYTES = 65_536;

/** Partitions the partition key hashes collection ids into (Milvus 2.3's default, stated). */
const PARTITIONS = 64;

/**
 * The vector index: HNSW over COSINE. Milvus 2.3.5-lite accepts HNSW, IVF_FLAT/IVF_SQ8,
 * DISKANN and SCANN here (no GPU indexes); HNSW gives the best recall per millisecond at this
 * size (up to a few million 384-d vectors held in memory), and COSINE answers the cosine
 * similarity the VectorIndex contract scores with (higher = closer), no conversion needed.
 */
export const INDEX = {
  index_type: "HNSW",
  metric_type: "COSINE",
  params: { M: 16, efConstruction: 200 },
} as const;

/** The primary key of a memory: unique across collections, readable, no hashing needed. */
export function primaryKey(collectionId: string, memoryId: string): string {
  return `${collectionId}/${memoryId}`;
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, "utf8");
}

/** Throws a RangeError for ids the schema cannot hold (never true for ids the API accepts). */
export function assertIds(collectionId: string, memoryId: string): void {
  if (byteLength(collectionId) > MAX_COLLECTION_ID_BYTES) {
    throw new RangeError(`collection id is longer than ${MAX_COLLECTION_ID_BYTES} bytes`);
  }
  if (byteLength(memoryId) > MAX_MEMORY_ID_BYTES) {
    throw new RangeError(`memory id is longer than ${MAX_MEMORY_ID_BYTES} bytes`);
  }
}

function fields(dimensions: number): FieldType[] {
  return [
    { name: FIELD.pk, data_type: DataType.VarChar, is_primary_key: true, autoID: false, max_length: MAX_PK_BYTES },
    { name: FIELD.collectionId, data_type: DataType.VarChar, is_partition_key: true, max_length: MAX_COLLECTION_ID_BYTES },
    { name: FIELD.memoryId, data_type: DataType.VarChar, max_length: MAX_MEMORY_ID_BYTES },
    { name: FIELD.embedding, data_type: DataType.FloatVector, dim: dimensions },
    { name: FIELD.metadata, data_type: DataType.JSON },
    { name: FIELD.createdAt, data_type: DataType.Int64 },
  ];
}

/**
 * Creates the collection and its index when missing, and checks an existing one is ours.
 * Idempotent and safe when several workers start at once: Milvus answers Success to a create
 * of an identical collection or index that already exists.
 */
export async function ensureCollection(conn: MilvusConnection, dimensions: number, log: Logger): Promise<void> {
  const name = conn.collection;
  const has = await conn.call("hasCollection", (timeout) => conn.client.hasCollection({ collection_name: name, timeout }), {
    status: nested,
  });
  if (has.value !== true) {
    await conn.call(
      "createCollection",
      (timeout) =>
      conn.client.createCollection({
        collection_name: name,
        description: "Memory API: memory embeddings, partitioned by collection_id",
        fields: fields(dimensions),
        num_partitions: PARTITIONS,
        shards_num: 1,
        enable_dynamic_field: false,
        // Searches state their own level; this is only the default for other clients.
        consistency_level: "Bounded",
        timeout,
      }),
      { status: itself },
    );
    log.info("milvus collection created", { collection: name, dimensions, partitions: PARTITIONS });
  }
  await checkSchema(conn, dimensions);

  const described = await conn.call("describeIndex", (timeout) =>
    conn.client.describeIndex({ collection_name: name, field_name: FIELD.embedding, timeout }),
  );
  if (described.status.code !== INDEX_NOT_FOUND) checkStatus(described.status, "describeIndex");
  const existing = described.index_descriptions?.[0];
  if (existing === undefined) {
    await conn.call(
      "createIndex",
      (timeout) => conn.client.createIndex({ collection_name: name, field_name: FIELD.embedding, ...INDEX, timeout }),
      { status: itself },
    );
    log.info("milvus index created", { collection: name, ...INDEX });
    return;
  }
  const param = (key: string) => existing.params.find((p) => p.key === key)?.value;
  if (param("metric_type") !== INDEX.metric_type) {
    throw new Error(`milvus collection "${name}" is indexed with metric ${param("metric_type")}; this service scores with ${INDEX.metric_type}`);
  }
  if (param("index_type") !== INDEX.index_type) {
    log.warn("milvus collection has another index type; keeping it", { collection: name, index_type: param("index_type") });
  }
}

/** Refuses a collection of that name that this adapter did not make (or made for other dimensions). */
async function checkSchema(conn: MilvusConnection, dimensions: number): Promise<void> {
  const described = await conn.call(
    "describeCollection",
    (timeout) => conn.client.describeCollection({ collection_name: conn.collection, timeout }),
    { status: nested },
  );
  const found = new Map(described.schema.fields.map((f) => [f.name, f]));
  const problems: string[] = [];
  for (const expected of fields(dimensions)) {
    const field = found.get(expected.name);
    const type = DataType[expected.data_type as DataType];
    if (field === undefined) problems.push(`no field ${expected.name}`);
    else if (String(field.data_type) !== type) problems.push(`${expected.name} is ${field.data_type}, not ${type}`);
  }
  const embedding = found.get(FIELD.embedding);
  const dim = Number(embedding?.type_params?.find((p) => p.key === "dim")?.value);
  if (embedding !== undefined && dim !== dimensions) {
    throw new Error(`milvus collection "${conn.collection}" holds ${dim}-dimensional embeddings; the embedder gives ${dimensions}`);
  }
  if (found.get(FIELD.pk)?.is_primary_key !== true) problems.push(`${FIELD.pk} is not the primary key`);
  if (found.get(FIELD.collectionId)?.is_partition_key !== true) problems.push(`${FIELD.collectionId} is not the partition key`);
  if (problems.length > 0) {
    throw new Error(`milvus collection "${conn.collection}" has another schema (${problems.join("; ")}); open another collection name or drop this one`);
  }
}
