import type { RateDecision } from "../../ports/rate-limiter";

/**
 * The generic cell rate algorithm, one step. `tatMs` is the key's theoretical arrival time
 * (when its budget would be full again, as a point in time); the budget is `limit` requests
 * per `periodMs`, this request costing `cost` of them. Returns the decision and the TAT to store
 * (unchanged when denied).
 * The Redis Lua script implements the same arithmetic.
 */
export function gcraStep(tatMs: number | undefined, nowMs: number, limit: number, periodMs: number, cost = 1) {
  const interval = periodMs / limit;
  const tat = Math.max(tatMs ?? nowMs, nowMs);
  const newTat = tat + interval * cost;
  const allowAt = newTat - periodMs;
  if (nowMs < allowAt) {
    const decision: RateDecision = {
      allowed: false,
      limit,
      remaining: 0,
      resetSeconds: Math.ceil((tat - nowMs) / 1000),
      retryAfterSeconds: Math.max(1, Math.ceil((allowAt - nowMs) / 1000)),
    };
    return { decision, tat };
  }
  const decision: RateDecision = {
    allowed: true,
    limit,
    remaining: Math.max(0, Math.floor((periodMs - (newTat - nowMs)) / interval)),
    resetSeconds: Math.ceil((newTat - nowMs) / 1000),
    retryAfterSeconds: 0,
  };
  return { decision, tat: newTat };
}
