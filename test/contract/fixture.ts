import type { MemoryWrite, Metadata } from "../../src/domain/memory.ts";
import type { CollectionStore } from "../../src/ports/collection-store.ts";
import type { MemoryStore } from "../../src/ports/memory-store.ts";
import type { VectorIndex } from "../../src/ports/vector-index.ts";

/**
 * What the store contracts run against: a fresh (or freshly namespaced) set of stores.
 * Embedded: one SQLite database. Production: Postgres collections + memories, Milvus vectors.
 */
export interface StoreFixture {
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  /** Embedding dimensions the stores were built for (at least 128). */
  dimensions: number;
  /**
   * Resolves once every write made so far is visible to `vectors` and keyword search (an
   * adapter whose outbox delivers asynchronously waits for it to drain). Optional; the suites
   * await it after every write before they search. A no-op for the embedded stores.
   */
  settle?(): Promise<void>;
  /** Releases what the factory opened (and drops what the tests wrote, where shared). */
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

export async function settle(fixture: StoreFixture): Promise<void> {
  if (fixture.settle !== undefined) await fixture.settle();
}

/** A fresh owner id, so suites can share one real database without colliding. */
export function newOwner(): string {
  return `owner-${crypto.randomUUID()}`;
}

/** A collection of a fresh owner; returns its id and owner. */
export async function newCollection(fixture: StoreFixture, name = "contract"): Promise<{ id: string; owner: string }> {
  const owner = newOwner();
  const collection = await fixture.collections.create(owner, { name, description: null });
  return { id: collection.id, owner };
}

export function write(id: string, content: string, embedding: Float32Array, metadata: Metadata = {}): MemoryWrite {
  return { id, content, metadata, embedding };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ids of a list of hits or memories. */
export function ids(items: { id: string }[]): string[] {
  return items.map((item) => item.id);
}
