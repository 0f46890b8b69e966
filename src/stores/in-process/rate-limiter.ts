import { gcraStep } from "../shared/gcra";
import type { RateDecision, RateLimiter } from "../../ports/rate-limiter";

const PERIOD_MS = 60_000;

/** GCRA in this process: the embedded mode's limiter, and production's fallback without Redis. */
export class InProcessRateLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>();

  constructor(
    private readonly opts: { maxKeys?: number; now?: () => number } = {},
  ) {}

  async consume(key: string, limitPerMinute: number, cost = 1): Promise<RateDecision> {
    return this.consumeSync(key, limitPerMinute, cost);
  }

  consumeSync(key: string, limitPerMinute: number, cost = 1): RateDecision {
    const now = (this.opts.now ?? Date.now)();
    const { decision, tat } = gcraStep(this.tats.get(key), now, limitPerMinute, PERIOD_MS, cost);
    if (decision.allowed) {
      this.tats.delete(key); // re-insert: Map order doubles as least-recently-used order
      this.tats.set(key, tat);
      this.evict(now);
    }
    return decision;
  }

  private evict(now: number): void {
    const maxKeys = this.opts.maxKeys ?? 100_000;
    if (this.tats.size <= maxKeys) return;
    for (const [key, tat] of this.tats) {
      if (this.tats.size <= maxKeys) break;
      // A key whose TAT has passed holds a full budget: forgetting it changes nothing.
      if (tat <= now || this.tats.size > maxKeys * 1.1) this.tats.delete(key);
    }
  }
}
