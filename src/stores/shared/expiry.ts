/** Expiry instants as every store keeps them: `Date#toISOString` text (UTC, ms), years 0000-9999. */

/** The canonical ISO text of an expiry (null stays null, undefined stays undefined); RangeError when invalid. */
export function canonicalExpiry<T extends string | null | undefined>(value: T, what = "expires_at"): T {
  if (value === null || value === undefined) return value;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < Date.UTC(0, 0, 1) || ms >= Date.UTC(10_000, 0, 1)) {
    throw new RangeError(`${what} must be an ISO-8601 date-time between years 0000 and 9999, got "${value}"`);
  }
  return new Date(ms).toISOString() as T;
}

/** The millisecond clock stores read "now" from (injectable for tests). */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
