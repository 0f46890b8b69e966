import { ConsistencyLevelEnum, promisify } from "@zilliz/milvus2-sdk-node";
import type { Logger } from "../../log.ts";
import type { IndexedMemory, IndexWriter } from "../../ports/index-writer.ts";
import { type MilvusConnection, nested } from "./connection.ts";
import { stringLiteral } from "./literals.ts";
import { insertRequest } from "./rows.ts";
import { FIELD, primaryKey } from "./schema.ts";
import type { Visibility } from "./visibility.ts";

/** Rows per insert / keys per delete expression (~1.5 MB of 384-d vectors a request). */
const BATCH = 1000;
/** Passes of a collection delete before giving up (the outbox retries later). */
const COLLECTION_DELETE_PASSES = 3;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function pkIn(pks: string[]): string {
  return `${FIELD.pk} in [${pks.map(stringLiteral).join(", ")}]`;
}

/**
 * The outbox's "milvus" target. Every method is idempotent.
 *
 * - upsert: delete the memories' primary keys, then insert their current state. Not Milvus'
 *   own `upsert`: in 2.3.5 it ignores the partition key (the rows land in a partition that
 *   `collection_id == ...` never searches: measured) and keeps duplicate keys of one batch.
 *   Between the delete and the insert a search may miss the memory being replaced (ms).
 * - delete: delete by primary key (`pk in [...]`).
 * - deleteCollection: delete by `collection_id == ...`, then count what is left (Strong) and
 *   repeat until nothing is.
 *
 * With `visibility: "write"` (the default) each call resolves only once its effect is visible
 * to every later search, and checks it: a Strong count of the keys written (or deleted) must
 * be exactly one (or zero) per key, else it throws and the outbox delivers again.
 */
export class MilvusIndexWriter implements IndexWriter {
  readonly name = "milvus";

  constructor(
    private readonly conn: MilvusConnection,
    private readonly dimensions: number,
    private readonly visibility: Visibility,
    private readonly log: Logger,
  ) {}

  async upsert(items: IndexedMemory[]): Promise<void> {
    if (items.length === 0) return;
    // At-least-once delivery may repeat a memory; its last state wins.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(primaryKey(item.collection_id, item.id), item);
    const batches = chunks([...latest.entries()], BATCH);
    // Encode (and validate) everything before deleting anything.
    const requests = batches.map((batch) => insertRequest(this.conn.collection, batch.map(([, item]) => item), this.dimensions));
    for (const [i, batch] of batches.entries()) {
      await this.deleteWhere(pkIn(batch.map(([pk]) => pk)));
      const answer = await this.conn.call(
        "insert",
        (timeout) => promisify(this.conn.client.client, "Insert", requests[i], timeout) as Promise<{ status: never; insert_cnt: string }>,
        { status: nested },
      );
      if (Number(answer.insert_cnt) !== batch.length) {
        throw new Error(`milvus insert: ${answer.insert_cnt} of ${batch.length} rows inserted`);
      }
    }
    if (this.visibility === "write") await this.verify(batches.map((batch) => batch.map(([pk]) => pk)), 1);
  }

  async delete(collectionId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const batches = chunks([...new Set(ids)].map((id) => primaryKey(collectionId, id)), BATCH);
    for (const pks of batches) await this.deleteWhere(pkIn(pks));
    if (this.visibility === "write") await this.verify(batches, 0);
  }

  async deleteCollection(collectionId: string): Promise<void> {
    const expr = `${FIELD.collectionId} == ${stringLiteral(collectionId)}`;
    let remaining = 0;
    for (let pass = 0; pass < COLLECTION_DELETE_PASSES; pass++) {
      // A delete by expression looks the rows up first; the Strong count afterwards both waits
      // for the delete to be visible and catches rows that lookup did not see yet.
      await this.deleteWhere(expr);
      remaining = await this.conn.barrier(expr);
      if (remaining === 0) return;
      this.log.warn("milvus collection delete left rows; deleting again", { remaining, pass });
    }
    throw new Error(`milvus deleteCollection: ${remaining} rows remain after ${COLLECTION_DELETE_PASSES} passes`);
  }

  private async deleteWhere(expr: string): Promise<void> {
    await this.conn.call(
      "delete",
      (timeout) => this.conn.client.deleteEntities({ collection_name: this.conn.collection, filter: expr, timeout }),
      { status: nested },
    );
  }

  /**
   * Waits until the keys' rows are visible to searches (the first count is Strong: the
   * barrier; the others need not wait again) and checks there are `each` rows per key.
   */
  private async verify(batches: string[][], each: 0 | 1): Promise<void> {
    let found = 0;
    let expected = 0;
    for (const [i, pks] of batches.entries()) {
      found += await this.conn.count(pkIn(pks), i === 0 ? ConsistencyLevelEnum.Strong : ConsistencyLevelEnum.Eventually);
      expected += pks.length * each;
    }
    if (found !== expected) {
      throw new Error(`milvus ${each === 1 ? "upsert" : "delete"} not applied: ${found} rows found for ${expected} expected; will be delivered again`);
    }
  }
}

