import { t } from "elysia";
import { invalidField } from "../http/problem";

/** Longest `ttl_seconds` accepted: ten years. */
export const MAX_TTL_SECONDS = 10 * 365 * 86_400;

const ExpiresAt = t.String({
  format: "date-time",
  maxLength: 64,
  description: "when the memory expires (ISO-8601 date-time, in the future); it then vanishes from get, list and search",
  examples: ["2030-01-01T00:00:00Z"],
});

const TtlSeconds = t.Integer({
  minimum: 1,
  maximum: MAX_TTL_SECONDS,
  description: "expires this many seconds after the write (instead of `expires_at`)",
});

/** On a new memory: give one of them, or neither (never expires). */
export const expiryFields = {
  expires_at: t.Optional(ExpiresAt),
  ttl_seconds: t.Optional(TtlSeconds),
};

/** On a PATCH: a new expiry, or `null` (either field) to clear it; absent: unchanged. */
export const expiryPatchFields = {
  expires_at: t.Optional(t.Union([ExpiresAt, t.Null()])),
  ttl_seconds: t.Optional(t.Union([TtlSeconds, t.Null()])),
};

/**
 * The expiry a request asks for, as ISO-8601 text: undefined when it names none, null to clear
 * it. `field` is the request path of the fields (`memories[3]`, or "" for the body itself).
 */
export function resolveExpiry(
  input: { expires_at?: string | null; ttl_seconds?: number | null },
  now: number,
  field: string,
): string | null | undefined {
  const name = (key: string) => (field === "" ? key : `${field}.${key}`);
  const { expires_at: at, ttl_seconds: ttl } = input;
  if (at !== undefined && ttl !== undefined) {
    throw invalidField(name("ttl_seconds"), "give expires_at or ttl_seconds, not both");
  }
  if (ttl !== undefined) return ttl === null ? null : new Date(now + ttl * 1000).toISOString();
  if (at === undefined || at === null) return at;
  // Date-time with a time zone (Z or ±hh:mm), as RFC 3339 has it; Date.parse alone accepts too much.
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(at) ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw invalidField(name("expires_at"), `must be an ISO-8601 date-time with a time zone, e.g. 2030-01-01T00:00:00Z; got "${at}"`);
  }
  if (ms <= now) throw invalidField(name("expires_at"), `must be in the future; it is ${new Date(ms).toISOString()}, now is ${new Date(now).toISOString()}`);
  if (ms > now + MAX_TTL_SECONDS * 1000) throw invalidField(name("expires_at"), "must be at most ten years ahead");
  return new Date(ms).toISOString();
}
