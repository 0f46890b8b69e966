import type { GraphFacts } from "../domain/graph.ts";
import type { Metadata } from "../domain/memory.ts";

/** A memory as a derived index (Milvus, Neo4j) receives it from the outbox. */
export interface IndexedMemory {
  collection_id: string;
  id: string;
  content: string;
  metadata: Metadata;
  embedding: Float32Array;
  created_at: string; // ISO-8601
  /** The memory's graph facts (absent or null: none). */
  graph?: GraphFacts | null;
}

/**
 * A derived index fed from the source of truth through the transactional outbox. Every method
 * is idempotent: the outbox delivers at least once, in any order of retries, and always sends
 * the memory's current state (a memory gone from the source of truth arrives as a delete).
 */
export interface IndexWriter {
  readonly name: string;
  upsert(items: IndexedMemory[]): Promise<void>;
  delete(collectionId: string, ids: string[]): Promise<void>;
  deleteCollection(collectionId: string): Promise<void>;
}
