/** The outcome of one rate-limited request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the budget is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * A per-key budget of `limitPerMinute` units, spent atomically (GCRA: a burst of up to the
 * whole budget, then one unit every 60/limit seconds). A request costs `cost` units (default 1;
 * a batch of memories costs more, src/http/cost.ts); one costing more than the whole budget is
 * never allowed. Shared by all workers in production.
 */
export interface RateLimiter {
  consume(key: string, limitPerMinute: number, cost?: number): Promise<RateDecision>;
}
