import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { principalFromClaims, type Principal, type Tier } from "./claims";
import { DEFAULT_TOKEN_POLICY, policyViolation, type TokenPolicy } from "./token-policy";
import type { RevocationCheck } from "./revocation-list";

export interface TokenService {
  sign(input: { sub: string; tier: Tier; ttlSeconds: number; type?: string }): Promise<string>;
  /** The principal of a valid access token, or null for anything else. */
  verify(token: string): Promise<Principal | null>;
  /** Why a token `verify` refused was refused, when this service knows better than its claims say. */
  explain?(token: string): string | undefined;
}

const MAX_TOKEN_LENGTH = 4096;

function untrustedPayload(token: string): Record<string, unknown> | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    return payload !== null && typeof payload === "object" ? payload : undefined;
  } catch {
    return undefined;
  }
}

/**
 * HS256 tokens through @elysiajs/jwt. Verified tokens are memoised by their exact string until
 * they expire: HMAC verification dominates the cost of a cached search otherwise. The
 * revocation list is consulted on every call, memoised or not (it is a worker-local lookup).
 */
export function createTokenService(
  secret: string,
  opts: { memoSize?: number; policy?: TokenPolicy; revocations?: RevocationCheck } = {},
): TokenService {
  const plugin = new Elysia().use(jwt({ name: "jwt", secret, alg: "HS256" }));
  const signer = plugin.decorator.jwt;
  const memoSize = opts.memoSize ?? 50_000;
  const policy = opts.policy ?? DEFAULT_TOKEN_POLICY;
  const memo = new Map<string, Principal>();
  const revoked = (p: Principal) =>
    opts.revocations?.isRevoked({ sub: p.userId, iat: p.iat ?? 0, ...(p.jti === undefined ? {} : { jti: p.jti }) }) ?? false;

  return {
    sign({ sub, tier, ttlSeconds, type = "access" }) {
      return signer.sign({
        sub,
        tier,
        type,
        jti: crypto.randomUUID(),
        ...(policy.issuer === undefined ? {} : { iss: policy.issuer }),
        ...(policy.audience === undefined ? {} : { aud: policy.audience }),
        exp: Math.floor(Date.now() / 1000) + ttlSeconds,
      });
    },

    async verify(token) {
      const nowSeconds = Date.now() / 1000;
      const known = memo.get(token);
      if (known) {
        if (known.exp > nowSeconds) return revoked(known) ? null : known;
        memo.delete(token);
        return null;
      }
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
      const payload = await signer.verify(token, {
        algorithms: ["HS256"],
        requiredClaims: ["sub", "exp", "iat"],
      });
      if (!payload) return null;
      const claims = payload as Record<string, unknown>;
      if (policyViolation(claims, policy, nowSeconds) !== null) return null;
      const principal = principalFromClaims(claims);
      if (!principal) return null;
      if (memo.size >= memoSize) {
        const oldest = memo.keys().next().value;
        if (oldest !== undefined) memo.delete(oldest);
      }
      memo.set(token, principal);
      return revoked(principal) ? null : principal;
    },

    explain(token) {
      const payload = untrustedPayload(token);
      if (!payload) return undefined;
      // wording only, like describeRejection: the 401 is decided by verify
      const violation = policyViolation(payload, policy, Date.now() / 1000);
      if (violation) return violation;
      // only a token whose signature was verified (so memoised) is said to be revoked
      const known = memo.get(token);
      return known && revoked(known) ? "token has been revoked" : undefined;
    },
  };
}
