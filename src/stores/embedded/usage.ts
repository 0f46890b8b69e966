import type { Database } from "bun:sqlite";
import type { TenantUsage, Usage } from "../../ports/tenant-usage.ts";

/** A tenant's totals, counted from the tables (the caller caches them: src/http/cost.ts). */
export class EmbeddedTenantUsage implements TenantUsage {
  private readonly collectionsStmt;
  private readonly memoriesStmt;

  constructor(db: Database) {
    this.collectionsStmt = db.prepare<{ n: number }, [string]>("SELECT count(*) AS n FROM collections WHERE owner = ?");
    this.memoriesStmt = db.prepare<{ n: number; bytes: number | null }, [string]>(
      `SELECT count(*) AS n, sum(length(CAST(m.content AS BLOB)) + length(CAST(m.metadata AS BLOB))) AS bytes
       FROM memories m JOIN collections c ON c.id = m.collection_id WHERE c.owner = ?`,
    );
  }

  async usage(owner: string): Promise<Usage> {
    const memories = this.memoriesStmt.get(owner);
    return {
      collections: this.collectionsStmt.get(owner)?.n ?? 0,
      memories: memories?.n ?? 0,
      bytes: memories?.bytes ?? 0,
    };
  }
}
