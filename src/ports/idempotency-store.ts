/**
 * Idempotency keys: a client's retry of a write (same key, same user, same request) gets the
 * first answer instead of writing again. `claim` is atomic across every worker (a SQLite
 * transaction in embedded mode, one PostgreSQL statement in production), so of two concurrent
 * duplicates exactly one runs.
 */
export type IdempotencyClaim =
  /** This request runs; it ends with `complete` (its answer is kept) or `release` (it failed). */
  | { state: "claimed"; token: string }
  /** A request with this key and fingerprint already completed: its answer. */
  | { state: "completed"; status: number; body: string }
  /** The same request is running right now (or crashed within `lockSeconds`). */
  | { state: "in_progress" }
  /** The key was used for a different request (another body, route or collection). */
  | { state: "mismatch" };

/** How long a claim's answer is kept, and how long a claim holds before another worker may take it over. */
export interface ClaimTimes {
  retentionSeconds: number;
  lockSeconds: number;
}

export interface IdempotencyStore {
  /**
   * Claims `key` of `scope` (the user) for a request with this fingerprint. A completed key is
   * answered for `retentionSeconds`; a claim that neither completes nor releases (its worker
   * died) may be taken over after `lockSeconds`.
   */
  claim(scope: string, key: string, fingerprint: string, opts: ClaimTimes): Promise<IdempotencyClaim>;
  /** Keeps the claimed request's answer. A claim taken over meanwhile (token changed) is left alone. */
  complete(scope: string, key: string, token: string, answer: { status: number; body: string }): Promise<void>;
  /** Drops a claim whose request failed, so a retry runs again. */
  release(scope: string, key: string, token: string): Promise<void>;
  /** Drops a completed answer that no longer holds (what it created was deleted since). */
  forget(scope: string, key: string): Promise<void>;
}
