import type { RateDecision, RateLimiter } from "../../ports/rate-limiter";

export interface LeaseOptions {
  /** Most units one lease takes from the shared budget; 1 = no leases (every request asks the shared limiter). */
  maxUnits: number;
  /** A lease unspent this long is dropped (its units stay spent in the shared budget). */
  leaseMs: number;
  now?: () => number;
}

interface Lease {
  units: number;
  limit: number;
  expiresAt: number;
  /** the shared budget's remaining and reset when the lease was taken */
  remaining: number;
  resetSeconds: number;
}

/** One lease is a hundredth of the per-minute budget, at least 1 (= exact), at most `maxUnits`. */
export const leaseUnits = (limitPerMinute: number, maxUnits: number) => Math.max(1, Math.min(maxUnits, Math.floor(limitPerMinute / 100)));

/**
 * A worker's budgets leased from the shared limiter (Redis), spent locally: a request whose key
 * holds enough leased units is decided with no round trip. A lease is taken from the shared
 * budget before any of it is spent, so across all workers no more is ever admitted than the
 * shared budget allows. The inexactness is the other way: units a worker holds but has not
 * spent are refused to the same key on other workers. A worker holds at most one lease a key,
 * so that is at most W × L units at any moment (W workers, L = leaseUnits), and a lease lapses
 * after `leaseMs`. When a whole lease no longer fits the budget, requests ask for exactly their
 * own cost until the refused lease would have fitted, so the budget's last units can still be
 * spent and a spent budget costs one round trip a request, as without leases. Budgets below
 * 200 a minute lease 1 unit: exact, as without leases.
 */
export class LeasedRateLimiter implements RateLimiter {
  private readonly leases = new Map<string, Lease>();
  /** one lease request per key at a time: concurrent requests of a key wait for it, not ask again */
  private readonly taking = new Map<string, Promise<void>>();
  /** keys whose last lease request was refused: exact requests until then (ms) */
  private readonly noLeaseUntil = new Map<string, number>();
  readonly stats = { local: 0, leases: 0, exact: 0 };

  constructor(
    private readonly shared: RateLimiter,
    private readonly options: LeaseOptions,
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async consume(key: string, limitPerMinute: number, cost = 1): Promise<RateDecision> {
    const size = leaseUnits(limitPerMinute, this.options.maxUnits);
    if (size <= 1 || cost > size || this.leaseRefused(key)) {
      this.stats.exact++;
      return this.shared.consume(key, limitPerMinute, cost);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const spent = this.spendLocally(key, limitPerMinute, cost);
      if (spent) return spent;
      const inFlight = this.taking.get(key);
      if (inFlight) {
        await inFlight;
        continue;
      }
      let decision: RateDecision | undefined;
      const taking = this.takeLease(key, limitPerMinute, size).then((d) => void (decision = d));
      this.taking.set(key, taking);
      try {
        await taking;
      } finally {
        this.taking.delete(key);
      }
      if (decision && !decision.allowed) break; // a whole lease no longer fits: ask for exactly this request's cost
    }
    this.stats.exact++;
    return this.shared.consume(key, limitPerMinute, cost);
  }

  private leaseRefused(key: string): boolean {
    const until = this.noLeaseUntil.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.noLeaseUntil.delete(key);
    return false;
  }

  private spendLocally(key: string, limit: number, cost: number): RateDecision | null {
    const lease = this.leases.get(key);
    if (!lease) return null;
    if (lease.limit !== limit || lease.expiresAt <= this.now()) {
      this.leases.delete(key);
      return null;
    }
    if (lease.units < cost) return null;
    lease.units -= cost;
    this.stats.local++;
    return { allowed: true, limit, remaining: lease.remaining + lease.units, resetSeconds: lease.resetSeconds, retryAfterSeconds: 0 };
  }

  private async takeLease(key: string, limit: number, size: number): Promise<RateDecision> {
    const decision = await this.shared.consume(key, limit, size);
    if (decision.allowed) {
      this.stats.leases++;
      if (this.leases.size >= 100_000) this.leases.delete(this.leases.keys().next().value!);
      this.leases.set(key, { units: size, limit, expiresAt: this.now() + this.options.leaseMs, remaining: decision.remaining, resetSeconds: decision.resetSeconds });
    } else {
      if (this.noLeaseUntil.size >= 100_000) this.noLeaseUntil.delete(this.noLeaseUntil.keys().next().value!);
      this.noLeaseUntil.set(key, this.now() + Math.max(1, decision.retryAfterSeconds) * 1000);
    }
    return decision;
  }
}
