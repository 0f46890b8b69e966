import type { TenantUsage, Usage } from "../../ports/tenant-usage.ts";
import type { PgPool } from "./pool.ts";

/** A tenant's totals, counted from the tables (the caller caches them: src/http/cost.ts). */
export class PostgresTenantUsage implements TenantUsage {
  constructor(private readonly pool: PgPool) {}

  async usage(owner: string): Promise<Usage> {
    if (owner.includes("\u0000")) return { collections: 0, memories: 0, bytes: 0 };
    const { rows } = await this.pool.query<{ collections: string; memories: string; bytes: string | null }>(
      {
        name: "usage.tenant",
        text: `SELECT (SELECT count(*) FROM collections WHERE owner = $1) AS collections,
                      count(m.id) AS memories,
                      sum(octet_length(m.content) + octet_length(m.metadata::text)) AS bytes
               FROM collections c JOIN memories m ON m.collection_id = c.id WHERE c.owner = $1`,
      },
      [owner],
    );
    const row = rows[0];
    return { collections: Number(row?.collections ?? 0), memories: Number(row?.memories ?? 0), bytes: Number(row?.bytes ?? 0) };
  }
}
