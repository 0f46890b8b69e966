import type { StoredApiKey } from "../domain/api-key";
import type { Logger } from "../log";
import type { ApiKeyStore } from "../ports/api-key-store";
import { isTier, type Principal } from "./claims";
import { parseApiKey, secretMatches } from "./api-key-format";

/**
 * The revocation bound: a worker trusts what it read about a key for at most this long, so a key
 * revoked (or expired) anywhere is refused by every worker within it. Measured from when the read
 * began, which keeps the bound under any store latency.
 */
export const API_KEY_CACHE_MS = 1000;
/** A key's last_used_at is written at most once per this interval per worker, never on the request. */
export const API_KEY_TOUCH_INTERVAL_MS = 60_000;

export interface ApiKeyVerifierOptions {
  store: ApiKeyStore;
  log: Logger;
  /** At most API_KEY_CACHE_MS (the documented bound); tests may lower it. */
  cacheMs?: number;
  touchIntervalMs?: number;
  /** Bound on cached keys (default 10,000). */
  maxEntries?: number;
}

interface Verdict {
  principal: Principal | null;
  until: number;
}

/**
 * Turns a presented `mapi_...` key into its owner's principal. Each worker keeps what it read for
 * at most API_KEY_CACHE_MS (one store read per key and second, shared by concurrent requests),
 * so the hot path is a Map lookup and revocation still reaches every worker within the bound.
 */
export class ApiKeyVerifier {
  private readonly store: ApiKeyStore;
  private readonly log: Logger;
  private readonly cacheMs: number;
  private readonly touchIntervalMs: number;
  private readonly maxEntries: number;
  private readonly verdicts = new Map<string, Verdict>();
  private readonly reading = new Map<string, Promise<Principal | null>>();
  private readonly touched = new Map<string, number>();

  constructor(options: ApiKeyVerifierOptions) {
    this.store = options.store;
    this.log = options.log;
    this.cacheMs = Math.min(options.cacheMs ?? API_KEY_CACHE_MS, API_KEY_CACHE_MS);
    this.touchIntervalMs = options.touchIntervalMs ?? API_KEY_TOUCH_INTERVAL_MS;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async verify(token: string): Promise<Principal | null> {
    const now = Date.now();
    const known = this.verdicts.get(token);
    if (known !== undefined && known.until > now) {
      if (known.principal) this.recordUse(known.principal.key!.id, now);
      return known.principal;
    }
    let pending = this.reading.get(token);
    if (pending === undefined) {
      pending = this.read(token, now).finally(() => this.reading.delete(token));
      this.reading.set(token, pending);
    }
    const principal = await pending;
    if (principal) this.recordUse(principal.key!.id, Date.now());
    return principal;
  }

  /** Drops what this worker knows of a key (the worker that revokes it refuses it at once). */
  forget(keyId: string): void {
    for (const [token, verdict] of this.verdicts) {
      if (verdict.principal?.key?.id === keyId) this.verdicts.delete(token);
    }
    this.touched.delete(keyId);
  }

  private async read(token: string, startedAt: number): Promise<Principal | null> {
    const parsed = parseApiKey(token);
    if (parsed === null) return null; // not a key this server makes: no store read
    const stored = await this.store.find(parsed.id);
    const valid = stored !== null && secretMatches(parsed.secret, stored.secret_hash) ? stored : null;
    const expiresAt = valid?.expires_at ? Date.parse(valid.expires_at) : Number.POSITIVE_INFINITY;
    const principal = valid && expiresAt > Date.now() ? toPrincipal(valid) : null;
    this.remember(token, { principal, until: Math.min(startedAt + this.cacheMs, expiresAt) });
    return principal;
  }

  private remember(token: string, verdict: Verdict): void {
    if (this.verdicts.size >= this.maxEntries) {
      const oldest = this.verdicts.keys().next().value;
      if (oldest !== undefined) this.verdicts.delete(oldest);
    }
    this.verdicts.set(token, verdict);
  }

  /** last_used_at, written after the answer (setImmediate) and at most once an interval. */
  private recordUse(keyId: string, now: number): void {
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    if (last === undefined && this.touched.size >= this.maxEntries) this.touched.clear();
    this.touched.set(keyId, now);
    const at = new Date(now).toISOString();
    setImmediate(() => {
      this.store.touch(keyId, at).catch((error) => this.log.warn("api key last-used update failed", { key_id: keyId, error }));
    });
  }
}

function toPrincipal(key: StoredApiKey): Principal | null {
  if (!isTier(key.tier)) return null;
  return {
    userId: key.owner,
    tier: key.tier,
    exp: key.expires_at ? Math.floor(Date.parse(key.expires_at) / 1000) : Number.POSITIVE_INFINITY,
    key: { id: key.id, scopes: key.scopes, collections: key.collections },
  };
}
