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
 * A per-key budget of `limitPerMinute` requests, spent atomically (GCRA: a burst of up to the
 * whole budget, then one request every 60/limit seconds). Shared by all workers in production.
 */
export interface RateLimiter {
  consume(key: string, limitPerMinute: number): Promise<RateDecision>;
}
