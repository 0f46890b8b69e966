/**
 * The change log: one entry per change of a memory, in commit order within its collection.
 * It serves a memory's history (GET …/memories/:id/history) and is the feed later consumers
 * read "since seq N" (the fresh tail and cache roll-forward, webhooks).
 */
import type { Metadata } from "./memory.ts";

/**
 * `create`: a new memory (or an id written again after it was deleted or expired);
 * `replace`: an upsert over an existing memory; `patch`: PATCH; `delete`: DELETE;
 * `expire`: removed because its `expires_at` passed.
 */
export type ChangeOp = "create" | "replace" | "patch" | "delete" | "expire";

export const CHANGE_OPS: readonly ChangeOp[] = ["create", "replace", "patch", "delete", "expire"];

/** What a change shows of a memory before or after it. */
export interface MemoryState {
  content: string;
  metadata: Metadata;
  expires_at: string | null;
}

export interface MemoryChange {
  /**
   * Position in the collection's log: 1, 2, 3, … in commit order, never reused, gap-free as
   * written (pruning removes the oldest entries only). A collection's last seq is a version of
   * its whole content.
   */
  seq: number;
  memory_id: string;
  op: ChangeOp;
  /** When the change was committed (ISO-8601). */
  at: string;
  /** The `sub` of the principal who made it (an API key's owner); null for expiry and system writes. */
  by: string | null;
  /** The memory before the change; null for `create`. */
  old: MemoryState | null;
  /** The memory after it; null for `delete` and `expire`. */
  new: MemoryState | null;
}

/** Who makes a write; stores record it in the change log. */
export interface ChangeContext {
  /** The principal's user id (`sub`), or an API key's owner. */
  by: string | null;
}
