import type { ApiKeyStore } from "../../ports/api-key-store.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";
import type { GraphStore } from "../../ports/graph-store.ts";
import type { HealthCheck } from "../../ports/health-check.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { ReembedStore } from "../../ports/reembed-store.ts";
import { EmbeddedReembedStore } from "./reembed.ts";
import { EmbeddedGraphStore } from "./graph-store.ts";
import { EmbeddedApiKeyStore } from "./api-keys.ts";
import { EmbeddedSearchCache } from "./cache.ts";
import { EmbeddedCollectionStore } from "./collections.ts";
import { type OpenDatabaseOptions, openDatabase, StatementCache } from "./database.ts";
import { EmbeddedHealthCheck } from "./health.ts";
import { EmbeddedMemoryStore } from "./memories.ts";
import { EmbeddedVectorIndex } from "./vector-index.ts";

export interface EmbeddedStoreOptions extends OpenDatabaseOptions {
  /** Bound on the search cache's in-process entries; default 10,000. */
  cacheMaxEntries?: number;
}

export interface EmbeddedStores {
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  /** The knowledge graph, written with the memories in their transactions. */
  graph: GraphStore;
  apiKeys: ApiKeyStore;
  /** Moving collections to another embedding model (`bun run reembed`). */
  reembed: ReembedStore;
  /** In-process values, generations shared through the database file. */
  cache: EmbeddedSearchCache;
  health: HealthCheck;
  /** Closes the database; the stores must not be used afterwards. Idempotent. */
  close(): void;
}

/** Opens the SQLite file (migrating it) and builds every embedded store over it. */
export function openEmbeddedStores(options: EmbeddedStoreOptions): EmbeddedStores {
  const db = openDatabase(options);
  const statements = new StatementCache(db);
  return {
    collections: new EmbeddedCollectionStore(db),
    memories: new EmbeddedMemoryStore(db, statements, options.dimensions),
    vectors: new EmbeddedVectorIndex(db, statements, options.dimensions),
    graph: new EmbeddedGraphStore(db),
    apiKeys: new EmbeddedApiKeyStore(db),
    reembed: new EmbeddedReembedStore(db, options.dimensions),
    cache: new EmbeddedSearchCache(db, { maxEntries: options.cacheMaxEntries ?? 10_000 }),
    health: new EmbeddedHealthCheck(db),
    close() {
      statements.clear();
      db.close(true);
    },
  };
}
