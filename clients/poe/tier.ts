/**
 * The bot's own view of its token's tier: only to pick `rerank` when POE_RERANK=auto. The API
 * decides (a 403 premium_required when it disagrees); this only avoids asking in vain.
 */

/** The tiers the API lets rerank (docs/api.md: premium = pro, enterprise). */
const PREMIUM_TIERS: ReadonlySet<string> = new Set(["pro", "enterprise"]);

/** The tier claim of a JWT, read without verifying it (the API verifies; this only picks options). */
export function tokenTier(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { tier?: unknown };
    return typeof payload.tier === "string" ? payload.tier : payload.tier === undefined ? "free" : undefined;
  } catch {
    return undefined;
  }
}

export function isPremiumTier(tier: string | undefined): boolean {
  return tier !== undefined && PREMIUM_TIERS.has(tier);
}
