import type { ApiKeyScope } from "../domain/api-key";

export const TIERS = ["free", "starter", "pro", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

const PREMIUM: ReadonlySet<Tier> = new Set(["pro", "enterprise"]);

export function isTier(value: unknown): value is Tier {
  return typeof value === "string" && (TIERS as readonly string[]).includes(value);
}

export function isPremium(tier: Tier): boolean {
  return PREMIUM.has(tier);
}

/** The verified identity of a request. */
export interface Principal {
  userId: string;
  tier: Tier;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issued at, seconds since the epoch (revocation by user compares it). */
  iat?: number;
  /** The token's id, when it has one (revocation by token). */
  jti?: string;
  /** Present when the request came with an API key: what that key may do (a JWT may do everything). */
  key?: KeyGrant;
}

/** An API key's limits: its scopes and its collection allow-list (null = all the owner's). */
export interface KeyGrant {
  id: string;
  scopes: readonly ApiKeyScope[];
  collections: readonly string[] | null;
}

/**
 * Turns a signature-verified JWT payload into a Principal, or null when the claims are not
 * those of an access token (the caller answers 401 either way).
 */
export function principalFromClaims(payload: Record<string, unknown>): Principal | null {
  const { sub, exp, iat, type } = payload;
  if (type !== "access") return null;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) return null;
  if (typeof exp !== "number" || typeof iat !== "number") return null;
  const tier = payload.tier === undefined ? "free" : payload.tier;
  if (!isTier(tier)) return null;
  const jti = typeof payload.jti === "string" && payload.jti.length > 0 ? payload.jti : undefined;
  return { userId: sub, tier, exp, iat, ...(jti === undefined ? {} : { jti }) };
}
