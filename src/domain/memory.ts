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
  /** When it expires (ISO-8601); null or absent: never. Stores always set it. */
  expires_at?: string | null;
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
  /** When it expires (ISO-8601); absent or null: never. */
  expiresAt?: string | null;
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
  /**
   * Applied only if the memory's `updated_at` is still this (the state the patch was computed
   * from), else a StaleUpdateError. Every write moves `updated_at` forward, by at least 1 ms.
   */
  ifUpdatedAt?: string;
  /** A new expiry (ISO-8601), or null to clear it; absent: unchanged. */
  expiresAt?: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
