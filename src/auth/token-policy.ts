/**
 * What a signature-verified access token must also satisfy (issue 18): a bounded lifetime, no
 * `iat` from the future, and, when configured, the expected issuer and audience.
 */
export interface TokenPolicy {
  /** Longest lifetime (`exp - iat`) accepted, seconds. */
  maxAgeSeconds: number;
  /** How far in the future `iat` may be (clocks of the minting host and ours differ). */
  clockSkewSeconds: number;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** When set, `aud` (a string or an array) must contain it. */
  audience?: string;
}

export const DEFAULT_TOKEN_POLICY: TokenPolicy = { maxAgeSeconds: 30 * 86_400, clockSkewSeconds: 60 };

/** Why the claims break the policy (a 401's detail), or null when they keep to it. */
export function policyViolation(payload: Record<string, unknown>, policy: TokenPolicy, nowSeconds: number): string | null {
  const { iat, exp, iss, aud } = payload;
  if (typeof iat === "number" && iat > nowSeconds + policy.clockSkewSeconds) return "token is issued in the future (iat)";
  if (typeof iat === "number" && typeof exp === "number" && exp - iat > policy.maxAgeSeconds) {
    return `token lifetime exceeds the maximum of ${policy.maxAgeSeconds} s (exp - iat)`;
  }
  if (policy.issuer !== undefined && iss !== policy.issuer) return "token issuer (iss) is not accepted";
  if (policy.audience !== undefined) {
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(policy.audience)) return "token audience (aud) is not accepted";
  }
  return null;
}
