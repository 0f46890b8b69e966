/** Memories: what a collection holds, and what a write or a patch carries. */
import type { MemoryGraph } from "./graph.ts";

export type Scalar = string | number | boolean;

export type Metadata = Record<string, unknown>;

export interface Memory {
  id: string;
  collection_id: string;
  content: string;
  metadata: Metadata;
  created_at: string; // ISO-8601
  updated_at: string; // ISO-8601
  /** The memory's graph facts (knowledge graph), when it has any. */
  graph?: MemoryGraph | null;
}

/** A memory to write. `embedding` is the normalised document embedding of `content`. */
export interface MemoryWrite {
  id: string;
  content: string;
  metadata: Metadata;
  embedding: Float32Array;
  /** Key of the model that made `embedding` (embedding-model.ts); absent: unknown. */
  embeddingModel?: string;
  /** Graph facts, computed once at write time (client-supplied + extracted). */
  graph?: MemoryGraph;
}

export interface MemoryPatch {
  content?: string;
  metadata?: Metadata;
  /** Present exactly when `content` is. */
  embedding?: Float32Array;
  /** With `embedding`: key of the model that made it; absent: unknown. */
  embeddingModel?: string;
  /** Replaces the memory's graph facts when present. */
  graph?: MemoryGraph;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
