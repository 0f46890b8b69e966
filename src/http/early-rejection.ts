import { Elysia } from "elysia";
import type { TokenService } from "../auth/tokens";
import type { Tier } from "../auth/claims";
import type { RateDecision, RateLimiter } from "../ports/rate-limiter";
import { problemResponse } from "./problem";

/**
 * Users whose budget is spent, until their Retry-After: a client that keeps sending while
 * refused is answered 429 when its request arrives, before its body is read or parsed (the
 * bench's abuse scenario: refused 1.5 MB batches still cost a JSON parse and a schema check each
 * when refused after validation). Worker-local; the shared limiter still decides every request
 * that gets past it.
 */
export class SpentBudgets {
  private readonly until = new Map<string, { at: number; limit: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(key: string, decision: RateDecision): void {
    if (this.until.size >= 100_000) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, { at: this.now() + decision.retryAfterSeconds * 1000, limit: decision.limit });
  }

  /** Seconds `key` must still wait (0: not known to be spent). */
  waiting(key: string): { seconds: number; limit: number } | null {
    const entry = this.until.get(key);
    if (!entry) return null;
    const left = entry.at - this.now();
    if (left <= 0) {
      this.until.delete(key);
      return null;
    }
    return { seconds: Math.ceil(left / 1000), limit: entry.limit };
  }

  get size(): number {
    return this.until.size;
  }
}

/** The limiter, remembering whom it refused a one-unit request (nothing cheaper could pass). */
export function rememberingLimiter(inner: RateLimiter, spent: SpentBudgets): RateLimiter {
  return {
    async consume(key, limitPerMinute, cost = 1) {
      const decision = await inner.consume(key, limitPerMinute, cost);
      if (!decision.allowed && cost <= 1) spent.remember(key, decision);
      return decision;
    },
  };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The sentence every 429 for a spent budget says, whoever refuses it. */
export const spentBudgetDetail = (tier: Tier, limit: number, retryAfterSeconds: number) =>
  `the ${tier} plan allows ${limit} requests a minute; retry in ${retryAfterSeconds} s`;

export interface EarlyRejectionOptions {
  onRejected?: (tier: Tier) => void;
  /** Paths whose requests spend no budget (the MCP endpoint: only its tool calls are charged). */
  freePaths?: readonly string[];
}

export function earlyRejectionPlugin(tokens: TokenService, spent: SpentBudgets, options: EarlyRejectionOptions = {}) {
  const freePaths = new Set(options.freePaths ?? []);
  return new Elysia({ name: "early-rejection" }).onRequest(async ({ request, set }) => {
    if (spent.size === 0) return;
    if (freePaths.size > 0 && freePaths.has(new URL(request.url).pathname)) return;
    const match = BEARER.exec(request.headers.get("authorization") ?? "");
    if (!match) return;
    const principal = await tokens.verify(match[1]!); // memoised: a map lookup for a known token
    if (!principal) return;
    const wait = spent.waiting(principal.userId);
    if (!wait) return;
    options.onRejected?.(principal.tier);
    const requestId = set.headers["x-request-id"] as string | undefined;
    return problemResponse(429, "rate_limited", spentBudgetDetail(principal.tier, wait.limit, wait.seconds), {
      requestId,
      headers: {
        ...(requestId ? { "x-request-id": requestId } : {}),
        "retry-after": String(wait.seconds),
        "ratelimit-limit": String(wait.limit),
        "ratelimit-remaining": "0",
        "ratelimit-reset": String(wait.seconds),
      },
    });
  });
}
