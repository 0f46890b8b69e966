import type { Collection, CollectionPatch } from "../../domain/collection.ts";
import { DuplicateNameError } from "../../domain/errors.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";
import { isUniqueViolation } from "./errors.ts";
import { type Outbox, queueSql } from "./outbox.ts";
import type { PgPool } from "./pool.ts";
import { assertNoNul, COLLECTION_COLUMNS, isUuid } from "./rows.ts";

/**
 * Owner-scoped collections; a collection that is not the caller's reads as absent. Deleting
 * one cascades to its memories in the same statement that queues a `delete_collection` row per
 * index writer, then delivers those rows before resolving (bounded; see Outbox).
 */
export class PostgresCollectionStore implements CollectionStore {
  constructor(
    private readonly pool: PgPool,
    private readonly outbox: Outbox,
  ) {}

  async create(
    owner: string,
    input: { name: string; description: string | null; embedding_model?: string; dedupe_threshold?: number | null },
  ): Promise<Collection> {
    assertNoNul(owner, "owner");
    assertNoNul(input.name, "name");
    if (input.description != null) assertNoNul(input.description, "description");
    if (input.embedding_model !== undefined) assertNoNul(input.embedding_model, "embedding_model");
    try {
      // Without a model, the column's default: the model collections had before models were recorded.
      const { rows } = await this.pool.query<Collection & Record<string, unknown>>(
        input.embedding_model === undefined
          ? {
              name: "collections.create",
              text: `INSERT INTO collections (id, owner, name, description, dedupe_threshold) VALUES ($1, $2, $3, $4, $5)
                     RETURNING ${COLLECTION_COLUMNS}`,
            }
          : {
              name: "collections.create+model",
              text: `INSERT INTO collections (id, owner, name, description, dedupe_threshold, embedding_model)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLLECTION_COLUMNS}`,
            },
        [
          crypto.randomUUID(),
          owner,
          input.name,
          input.description ?? null,
          input.dedupe_threshold ?? null,
          ...(input.embedding_model === undefined ? [] : [input.embedding_model]),
        ],
      );
      return rows[0]!;
    } catch (error) {
      if (isUniqueViolation(error, "collections_owner_name_key")) throw new DuplicateNameError(input.name);
      throw error;
    }
  }

  async list(owner: string): Promise<Collection[]> {
    if (owner.includes("\u0000")) return [];
    const { rows } = await this.pool.query<Collection & Record<string, unknown>>(
      {
        name: "collections.list",
        text: `SELECT ${COLLECTION_COLUMNS} FROM collections WHERE owner = $1 ORDER BY seq`,
      },
      [owner],
    );
    return rows;
  }

  async get(owner: string, id: string): Promise<Collection | null> {
    if (!isUuid(id) || owner.includes("\u0000")) return null;
    const { rows } = await this.pool.query<Collection & Record<string, unknown>>(
      {
        name: "collections.get",
        text: `SELECT ${COLLECTION_COLUMNS} FROM collections WHERE id = $1 AND owner = $2`,
      },
      [id, owner],
    );
    return rows[0] ?? null;
  }

  async update(owner: string, id: string, patch: CollectionPatch): Promise<Collection | null> {
    if (patch.name !== undefined) assertNoNul(patch.name, "name");
    if (patch.description != null) assertNoNul(patch.description, "description");
    if (!isUuid(id) || owner.includes("\u0000")) return null;
    try {
      const { rows } = await this.pool.query<Collection & Record<string, unknown>>(
        {
          name: "collections.update",
          text: `UPDATE collections SET name = coalesce($3::text, name),
                   description = CASE WHEN $4::boolean THEN $5::text ELSE description END,
                   dedupe_threshold = CASE WHEN $6::boolean THEN $7::float8 ELSE dedupe_threshold END
                 WHERE id = $1 AND owner = $2 RETURNING ${COLLECTION_COLUMNS}`,
        },
        [
          id,
          owner,
          patch.name ?? null,
          patch.description !== undefined,
          patch.description ?? null,
          patch.dedupe_threshold !== undefined,
          patch.dedupe_threshold ?? null,
        ],
      );
      return rows[0] ?? null;
    } catch (error) {
      if (isUniqueViolation(error, "collections_owner_name_key")) throw new DuplicateNameError(patch.name ?? "");
      throw error;
    }
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (!isUuid(id) || owner.includes("\u0000")) return false;
    const targets = this.outbox.targets;
    const { rows } = await this.pool.query<{ deleted: number; queued: string[] | null }>(
      {
        name: targets.length > 0 ? "collections.delete+outbox" : "collections.delete",
        text:
          targets.length > 0
            ? `WITH gone AS (
                 DELETE FROM collections WHERE id = $1 AND owner = $2 RETURNING id AS collection_id, NULL::text AS id
               ), queued AS (${queueSql("delete_collection", "gone", "$3")})
               SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT array_agg(id::text) FROM queued) AS queued`
            : `WITH gone AS (DELETE FROM collections WHERE id = $1 AND owner = $2 RETURNING 1)
               SELECT count(*)::int AS deleted, NULL::text[] AS queued FROM gone`,
      },
      targets.length > 0 ? [id, owner, targets] : [id, owner],
    );
    const { deleted, queued } = rows[0]!;
    if (queued !== null && queued.length > 0) await this.outbox.deliverNow(queued);
    return deleted > 0;
  }
}
