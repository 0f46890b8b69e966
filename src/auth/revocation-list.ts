import type { Logger } from "../log";
import type { RevocationSnapshot, RevocationStore } from "../ports/revocation-store";

export interface RevocationCheck {
  /** Whether a token of `sub` issued at `iat` (with `jti`, when it has one) is revoked. */
  isRevoked(token: { sub: string; iat: number; jti?: string }): boolean;
}

/**
 * A worker's copy of the revocation list, checked on every request without I/O (a memoised
 * token is checked too) and refreshed from the shared store every `refreshMs`: a revocation
 * reaches every worker within that time. The refresh reads one version number; the list itself
 * is reloaded only when it changed. While the store is unreachable the last copy stays in force.
 */
export class RevocationList implements RevocationCheck {
  private snapshot: RevocationSnapshot = { jtis: new Map(), subs: new Map() };
  private loadedVersion: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;
  private lastWarning = 0;

  constructor(
    private readonly store: RevocationStore,
    private readonly opts: { refreshMs?: number; log?: Logger } = {},
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
    try {
      const version = await this.store.version();
      if (version === this.loadedVersion) return;
      this.snapshot = await this.store.load(Date.now());
      this.loadedVersion = version;
    } catch (error) {
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.opts.log?.warn("could not refresh the token revocation list; the last copy stays in force", { error: String(error) });
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
  }
}
