/** Revoked tokens as one worker sees them at a moment. */
export interface RevocationSnapshot {
  /** Revoked token ids → when the entry may be forgotten (ms since the epoch). */
  jtis: Map<string, number>;
  /** Users whose tokens issued up to that second (`iat <= value`) are revoked. */
  subs: Map<string, number>;
}

/**
 * Where revocations are kept so that every worker (and the operator's CLI) sees the same list:
 * Redis in production, a SQLite file under DATA_DIR in embedded mode. Entries are kept only as
 * long as a token they revoke could still be valid (the maximum token age).
 */
export interface RevocationStore {
  revokeJti(jti: string, forgetAtMs: number): Promise<void>;
  /** Every token of `sub` issued at or before `issuedUpToSeconds`. */
  revokeSub(sub: string, issuedUpToSeconds: number, forgetAtMs: number): Promise<void>;
  /** Changes whenever a revocation is added: cheap to poll. */
  version(): Promise<string>;
  /** The live entries (forgotten ones pruned). */
  load(nowMs: number): Promise<RevocationSnapshot>;
  close(): Promise<void>;
}
