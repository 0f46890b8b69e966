import type { Logger } from "../log";
import type { RevocationSnapshot, RevocationStore } from "../ports/revocation-store";

const DEFAULT_LOAD_TIMEOUT_MS = 2_000;

export interface RevocationCheck {
  /** Whether a token of `sub` issued at `iat` (with `jti`, when it has one) is revoked. */
  isRevoked(token: { sub: string; iat: number; jti?: string }): boolean;
}

/**
 * A worker's copy of the revocation list, checked on every request without I/O (a memoised
 * token is checked too) and refreshed from the shared store every `refreshMs`: a revocation
 * reaches every worker within that time. The refresh reads one version number; the list itself
 * is reloaded only when it changed. While the store is unreachable the last copy stays in force.
 * A refresh that has not answered within `loadTimeoutMs` is given up with a warning, so a store
 * whose client never answers neither holds the worker's start nor stops the refreshes after it.
 */
export class RevocationList implements RevocationCheck {
  private snapshot: RevocationSnapshot = { jtis: new Map(), subs: new Map() };
  private loadedVersion: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;
  private attempts = 0;
  private lastWarning = 0;

  constructor(
    private readonly store: RevocationStore,
    private readonly opts: { refreshMs?: number; loadTimeoutMs?: number; log?: Logger } = {},
  ) {}

  /** Loads the list, then keeps it fresh in the background. */
  async start(): Promise<this> {
    await this.refresh();
    const refreshMs = this.opts.refreshMs ?? 250;
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref?.();
    return this;
  }

  isRevoked({ sub, iat, jti }: { sub: string; iat: number; jti?: string }): boolean {
    if (jti !== undefined && this.snapshot.jtis.has(jti)) return true;
    const revokedUpTo = this.snapshot.subs.get(sub);
    return revokedUpTo !== undefined && iat <= revokedUpTo;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.reload().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async reload(): Promise<void> {
    const timeoutMs = this.opts.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the revocation store did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.load(++this.attempts), expired]);
    } catch (error) {
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.opts.log?.warn("could not refresh the token revocation list; the last copy stays in force", { error: String(error) });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async load(attempt: number): Promise<void> {
    const version = await this.store.version();
    if (version === this.loadedVersion) return;
    const snapshot = await this.store.load(Date.now());
    // an attempt given up on answers late: the refresh started after it decides instead
    if (attempt !== this.attempts) return;
    this.snapshot = snapshot;
    this.loadedVersion = version;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
  }
}
