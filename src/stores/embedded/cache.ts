import type { Database } from "bun:sqlite";
import type { SearchCache } from "../../ports/search-cache.ts";
import { MemorySearchCache, type MemorySearchCacheOptions } from "../in-process/cache.ts";

/**
 * The embedded mode's `SearchCache`: values live in this process (an LRU with TTL), while the
 * collection generations live in the SQLite file. Every worker that opens the same file thus
 * sees every other worker's bumps, so a write made through one worker invalidates the cached
 * searches of all of them (read-your-writes across a cluster), at the price of one indexed
 * read per lookup of a generation.
 */
export class EmbeddedSearchCache implements SearchCache {
  private readonly values: MemorySearchCache;
  private readonly getGenerationStmt;
  private readonly bumpGenerationStmt;

  constructor(db: Database, options: MemorySearchCacheOptions = {}) {
    this.values = new MemorySearchCache(options);
    this.getGenerationStmt = db.prepare<{ generation: number }, [string]>(
      "SELECT generation FROM collection_generations WHERE collection_id = ?",
    );
    this.bumpGenerationStmt = db.prepare<{ generation: number }, [string]>(
      `INSERT INTO collection_generations (collection_id, generation) VALUES (?, 1)
       ON CONFLICT (collection_id) DO UPDATE SET generation = generation + 1
       RETURNING generation`,
    );
  }

  async get(key: string): Promise<string | null> {
    return this.values.getSync(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.values.setSync(key, value, ttlSeconds);
  }

  async generation(collectionId: string): Promise<number> {
    return this.getGenerationStmt.get(collectionId)?.generation ?? 0;
  }

  async bumpGeneration(collectionId: string): Promise<number> {
    return this.bumpGenerationStmt.get(collectionId)!.generation;
  }
}
