import type { GenerationLedger } from "../../ports/generation-ledger.ts";
import type { PgPool } from "./pool.ts";
import { isUuid } from "./rows.ts";

/**
 * The cache-generation migration (self-contained: renumber freely when merging).
 *
 * One sequence for every collection: a value is never handed out twice, and a PostgreSQL crash
 * can only make it skip ahead. It starts at 2^40, above any generation an earlier build counted
 * with Redis INCR could have reached, so the first value after an upgrade is above the old ones.
 */
export const CACHE_GENERATIONS_MIGRATION = `
  CREATE SEQUENCE IF NOT EXISTS cache_generations START WITH 1099511627776;
  ALTER TABLE collections ADD COLUMN IF NOT EXISTS cache_generation bigint NOT NULL DEFAULT 0;
`;

/** Cache generations in PostgreSQL, next to the collections they version (primary only: never a replica). */
export class PostgresGenerationLedger implements GenerationLedger {
  constructor(private readonly pool: PgPool) {}

  async advance(collectionId: string): Promise<number> {
    if (isUuid(collectionId)) {
      const { rows } = await this.pool.query<{ g: string }>(
        {
          name: "cache_generations.advance",
          // GREATEST: the column never goes back, whatever order concurrent advances commit in
          text: `UPDATE collections SET cache_generation = GREATEST(cache_generation, nextval('cache_generations'))
                 WHERE id = $1 RETURNING cache_generation::text AS g`,
        },
        [collectionId],
      );
      if (rows[0]) return Number(rows[0].g);
    }
    // a deleted (or never created) collection: a fresh value still retires every key cached before
    const { rows } = await this.pool.query<{ g: string }>({
      name: "cache_generations.next",
      text: "SELECT nextval('cache_generations')::text AS g",
    });
    return Number(rows[0]!.g);
  }

  async current(collectionId: string): Promise<number | null> {
    if (!isUuid(collectionId)) return null;
    const { rows } = await this.pool.query<{ g: string }>(
      { name: "cache_generations.current", text: "SELECT cache_generation::text AS g FROM collections WHERE id = $1" },
      [collectionId],
    );
    return rows[0] ? Number(rows[0].g) : null;
  }
}
