import { Elysia } from "elysia";
import { ProblemError } from "../http/problem";
import { spentBudgetDetail } from "../http/early-rejection";
import type { TokenService } from "./tokens";
import type { RateLimiter } from "../ports/rate-limiter";
import type { Tier } from "./claims";
import { looksLikeApiKey } from "./api-key-format";
import { authorizeKeyRequest } from "./key-access";

export interface RateLimitPolicy {
  limiter: RateLimiter;
  perMinute: Record<Tier, number>;
  /** Counts 429s by tier (metrics). */
  onRejected?: (tier: Tier) => void;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, "unauthorized", detail, {
    headers: { "www-authenticate": 'Bearer realm="memory-api"' },
  });
}

/** Why an unverifiable token failed, from its (untrusted) payload: only to word the 401. */
function describeRejection(token: string): string {
  if (looksLikeApiKey(token)) return "API key is unknown, revoked or expired";
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    if (typeof payload?.exp === "number" && payload.exp * 1000 < Date.now()) return "token has expired";
    if (payload?.type !== undefined && payload.type !== "access") return "token is not an access token";
  } catch {
    // not a JWT at all
  }
  return "token is invalid";
}

/**
 * Resolves `principal` for every route of the plugin that uses it (401 problem+json otherwise),
 * then spends one request of the user's per-minute budget (429 problem+json when it is spent).
 * Routes without auth (/health, /ready, /metrics) are therefore never rate limited.
 */
export function authPlugin(tokens: TokenService, rateLimit?: RateLimitPolicy) {
  return new Elysia({ name: "auth", seed: [tokens, rateLimit] }).resolve({ as: "scoped" }, async ({ request, set, route, params, body }) => {
    const header = request.headers.get("authorization");
    if (!header) throw unauthorized("missing Authorization: Bearer <token> header");
    const match = BEARER.exec(header);
    if (!match) throw unauthorized("Authorization header must be 'Bearer <token>'");
    const token = match[1]!;
    const principal = await tokens.verify(token);
    if (!principal) throw unauthorized(tokens.explain?.(token) ?? describeRejection(token));
    if (rateLimit) {
      const limit = rateLimit.perMinute[principal.tier];
      const decision = await rateLimit.limiter.consume(principal.userId, limit);
      const headers = {
        "ratelimit-limit": String(decision.limit),
        "ratelimit-remaining": String(decision.remaining),
        "ratelimit-reset": String(decision.resetSeconds),
      };
      if (!decision.allowed) {
        rateLimit.onRejected?.(principal.tier);
        throw new ProblemError(
          429,
          "rate_limited",
          spentBudgetDetail(principal.tier, limit, decision.retryAfterSeconds),
          { headers: { ...headers, "retry-after": String(decision.retryAfterSeconds) } },
        );
      }
      Object.assign(set.headers, headers);
    }
    // after the budget is spent, so that denied requests count too
    if (principal.key) authorizeKeyRequest(principal, { method: request.method, route, params, body });
    return { principal };
  });
}

export type AuthPlugin = ReturnType<typeof authPlugin>;
