import { DataType } from "@zilliz/milvus2-sdk-node";
import type { IndexedMemory } from "../../ports/index-writer.ts";
import { projectMetadata } from "./projection.ts";
import { FIELD, MAX_JSON_BYTES, assertIds, primaryKey } from "./schema.ts";
import { timestampMs } from "./expression.ts";

/**
 * The gRPC InsertRequest of a batch of memories, column by column.
 *
 * Built here rather than by the SDK's `insert`: SDK 2.3.5 appends each row's vector with
 * `Array#concat` onto the column built so far (quadratic), which costs ~1.7 s of CPU for
 * 1000 × 384-d rows on this box; this takes ~0.1 s for the same batch.
 */
export interface InsertRequest {
  collection_name: string;
  num_rows: number;
  fields_data: unknown[];
}

export function insertRequest(collection: string, items: IndexedMemory[], dimensions: number): InsertRequest {
  const n = items.length;
  const pks = new Array<string>(n);
  const collectionIds = new Array<string>(n);
  const memoryIds = new Array<string>(n);
  const vectors = new Array<number>(n * dimensions);
  const metadata = new Array<Buffer>(n);
  const createdAt = new Array<number>(n);
  items.forEach((item, i) => {
    assertIds(item.collection_id, item.id);
    if (item.embedding.length !== dimensions) {
      throw new RangeError(`embedding of memory ${JSON.stringify(item.id)} has ${item.embedding.length} dimensions, expected ${dimensions}`);
    }
    pks[i] = primaryKey(item.collection_id, item.id);
    collectionIds[i] = item.collection_id;
    memoryIds[i] = item.id;
    const base = i * dimensions;
    for (let j = 0; j < dimensions; j++) vectors[base + j] = item.embedding[j]!;
    const json = Buffer.from(JSON.stringify(projectMetadata(item.metadata)));
    if (json.length > MAX_JSON_BYTES) {
      throw new RangeError(`filterable metadata of memory ${JSON.stringify(item.id)} is ${json.length} bytes; Milvus holds at most ${MAX_JSON_BYTES}`);
    }
    metadata[i] = json;
    createdAt[i] = timestampMs(item.created_at, "created_at");
  });
  const scalars = (name: string, type: DataType, key: string, data: unknown[]) => ({
    type,
    field_name: name,
    is_dynamic: false,
    scalars: { [key]: { data } },
  });
  return {
    collection_name: collection,
    num_rows: n,
    fields_data: [
      scalars(FIELD.pk, DataType.VarChar, "string_data", pks),
      scalars(FIELD.collectionId, DataType.VarChar, "string_data", collectionIds),
      scalars(FIELD.memoryId, DataType.VarChar, "string_data", memoryIds),
      {
        type: DataType.FloatVector,
        field_name: FIELD.embedding,
        is_dynamic: false,
        vectors: { dim: dimensions, float_vector: { data: vectors } },
      },
      scalars(FIELD.metadata, DataType.JSON, "json_data", metadata),
      scalars(FIELD.createdAt, DataType.Int64, "long_data", createdAt),
    ],
  };
}
