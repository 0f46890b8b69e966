import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { principalFromClaims, type Principal, type Tier } from "./claims";

export interface TokenService {
  sign(input: { sub: string; tier: Tier; ttlSeconds: number; type?: string }): Promise<string>;
  /** The principal of a valid access token, or null for anything else. */
  verify(token: string): Promise<Principal | null>;
}

const MAX_TOKEN_LENGTH = 4096;

/**
 * HS256 tokens through @elysiajs/jwt. Verified tokens are memoised by their exact string until
 * they expire: HMAC verification dominates the cost of a cached search otherwise.
 */
export function createTokenService(secret: string, opts: { memoSize?: number } = {}): TokenService {
  const plugin = new Elysia().use(jwt({ name: "jwt", secret, alg: "HS256" }));
  const signer = plugin.decorator.jwt;
  const memoSize = opts.memoSize ?? 50_000;
  const memo = new Map<string, Principal>();

  return {
    sign({ sub, tier, ttlSeconds, type = "access" }) {
      return signer.sign({ sub, tier, type, exp: Math.floor(Date.now() / 1000) + ttlSeconds });
    },

    async verify(token) {
      const nowSeconds = Date.now() / 1000;
      const known = memo.get(token);
      if (known) {
        if (known.exp > nowSeconds) return known;
        memo.delete(token);
        return null;
      }
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
      const payload = await signer.verify(token, {
        algorithms: ["HS256"],
        requiredClaims: ["sub", "exp", "iat"],
      });
      if (!payload) return null;
      const principal = principalFromClaims(payload as Record<string, unknown>);
      if (!principal) return null;
      if (memo.size >= memoSize) {
        const oldest = memo.keys().next().value;
        if (oldest !== undefined) memo.delete(oldest);
      }
      memo.set(token, principal);
      return principal;
    },
  };
}
