/**
 * A cached answer that holds an expiring memory carries the earliest expiry among its results,
 * so a hit is re-checked against the clock: an answer is never served at or after the moment
 * one of its memories expires, whatever the cache level or its TTL (a worker-local first level
 * re-caches a shared value for its own TTL). Answers without one are stored as they are; they
 * start with `{`, these with `~<epoch ms>~`.
 */

const MARK = "~";

/** The value to cache: `body`, prefixed with `expiresAtMs` when an answer's memory expires. */
export function withExpiry(body: string, expiresAtMs: number | null): string {
  return expiresAtMs === null ? body : `${MARK}${expiresAtMs}${MARK}${body}`;
}

/** The answer in a cached value, or null when it is due at `nowMs` (then it is a miss). */
export function liveAnswer(value: string, nowMs: number): string | null {
  if (!value.startsWith(MARK)) return value;
  const end = value.indexOf(MARK, 1);
  const expiresAtMs = end > 1 ? Number(value.slice(1, end)) : Number.NaN;
  if (!(nowMs < expiresAtMs)) return null;
  return value.slice(end + 1);
}

/** A cache TTL that does not outlive the answer's first expiry (whole seconds, at least 1). */
export function ttlUntil(ttlSeconds: number, expiresAtMs: number | null, nowMs: number): number {
  if (expiresAtMs === null) return ttlSeconds;
  return Math.min(ttlSeconds, Math.max(1, Math.ceil((expiresAtMs - nowMs) / 1000)));
}
