import type { Principal, Tier } from "../auth/claims";
import type { RateLimitPolicy } from "../auth/plugin";
import type { TierLimits } from "../config";
import type { TenantUsage, Usage } from "../ports/tenant-usage";
import { ProblemError } from "./problem";

/**
 * Requests priced by what they cost (issue 18, item 5), on top of the one rate-limit unit the
 * auth plugin spends for every request:
 *
 * - rate limits weighted by cost: a memory costs one unit plus one per `bytesPerUnit` bytes of
 *   content and metadata (a 1,000-memory batch costs at least 1,000); a graph search costs
 *   `graphSearchUnits`; a bulk delete one unit per `deletesPerUnit` memories it may delete (a
 *   dry run, which only reads, one); other requests one. A request costing more than the tier's whole
 *   budget can never pass: a 422 that says so, not a 429 to retry forever.
 * - per-tenant write concurrency: memories of one tenant being written at once on this worker
 *   (so one tenant cannot fill the worker's embedding queue); a lone request always passes,
 *   the next one over the cap is a 429 with Retry-After.
 * - quotas per tier (collections, memories, bytes): over one, a 403 `quota_exceeded` naming it.
 *   Usage is counted by the stores and cached per tenant for `usageTtlMs`, with this worker's
 *   own writes added meanwhile: concurrent writes on several workers may overshoot a quota by
 *   what they write within that time. An upsert of an existing id counts as new until then.
 */
export interface CostPolicyOptions {
  rateLimit?: RateLimitPolicy;
  tierLimits?: Record<Tier, TierLimits>;
  usage?: TenantUsage;
  graphSearchUnits?: number;
  bytesPerUnit?: number;
  /** Memories a bulk delete may delete per rate-limit unit (default 10). */
  deletesPerUnit?: number;
  usageTtlMs?: number;
  now?: () => number;
}

export interface PricedItem {
  content: string;
  metadata?: unknown;
}

const QUOTA_NAMES: Record<keyof Usage, string> = { collections: "collections", memories: "memories", bytes: "bytes" };

export class CostPolicy {
  private readonly inFlight = new Map<string, number>();
  private readonly usageCache = new Map<string, { usage: Usage; at: number }>();
  readonly graphSearchUnits: number;
  private readonly bytesPerUnit: number;
  private readonly deletesPerUnit: number;

  constructor(private readonly opts: CostPolicyOptions = {}) {
    this.graphSearchUnits = opts.graphSearchUnits ?? 5;
    this.bytesPerUnit = opts.bytesPerUnit ?? 16_384;
    this.deletesPerUnit = opts.deletesPerUnit ?? 10;
  }

  /** Units and stored bytes of a batch of memories. */
  price(items: PricedItem[]): { units: number; bytes: number } {
    let units = 0;
    let bytes = 0;
    for (const item of items) {
      const size = Buffer.byteLength(item.content) + (item.metadata === undefined ? 2 : Buffer.byteLength(JSON.stringify(item.metadata)));
      bytes += size;
      units += 1 + Math.floor(size / this.bytesPerUnit);
    }
    return { units, bytes };
  }

  /** Units of a bulk delete that may delete up to `count` memories (a dry run changes nothing: one unit). */
  priceDeletion(count: number, dryRun: boolean): number {
    return dryRun ? 1 : Math.max(1, Math.ceil(count / this.deletesPerUnit));
  }

  /** Spends the request's cost beyond the unit already spent; `field` names what made it cost. */
  async charge(principal: Principal, units: number, field: string): Promise<void> {
    const policy = this.opts.rateLimit;
    if (!policy || units <= 1) return;
    const limit = policy.perMinute[principal.tier];
    if (units > limit) {
      throw new ProblemError(
        422,
        "validation_failed",
        `${field}: this request costs ${units} units and the ${principal.tier} plan allows ${limit} a minute; split it into smaller ones`,
        { field },
      );
    }
    const decision = await policy.limiter.consume(principal.userId, limit, units - 1);
    if (decision.allowed) return;
    policy.onRejected?.(principal.tier);
    throw new ProblemError(
      429,
      "rate_limited",
      `this request costs ${units} units; the ${principal.tier} plan allows ${limit} a minute; retry in ${decision.retryAfterSeconds} s`,
      {
        headers: {
          "retry-after": String(decision.retryAfterSeconds),
          "ratelimit-limit": String(decision.limit),
          "ratelimit-remaining": String(decision.remaining),
          "ratelimit-reset": String(decision.resetSeconds),
        },
      },
    );
  }

  /** Admits `memories` more of the tenant's writes on this worker, or throws a 429; call the answer when done. */
  admitWrite(principal: Principal, memories: number): () => void {
    const limits = this.opts.tierLimits?.[principal.tier];
    if (!limits) return () => {};
    const current = this.inFlight.get(principal.userId) ?? 0;
    if (current > 0 && current + memories > limits.writeMemoriesInFlight) {
      throw new ProblemError(
        429,
        "too_many_concurrent_writes",
        `the ${principal.tier} plan writes at most ${limits.writeMemoriesInFlight} memories at once; ${current} are being written; retry when they are done`,
        { headers: { "retry-after": "1" } },
      );
    }
    this.inFlight.set(principal.userId, current + memories);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(principal.userId) ?? memories) - memories;
      if (left > 0) this.inFlight.set(principal.userId, left);
      else this.inFlight.delete(principal.userId);
    };
  }

  /** Throws a 403 `quota_exceeded` when `adding` would take the tenant over a quota of its tier. */
  async checkQuota(principal: Principal, adding: Partial<Usage>): Promise<void> {
    const limits = this.opts.tierLimits?.[principal.tier];
    if (!limits || !this.opts.usage) return;
    const usage = await this.usageOf(principal.userId);
    for (const key of Object.keys(QUOTA_NAMES) as (keyof Usage)[]) {
      const add = adding[key] ?? 0;
      if (add > 0 && usage[key] + add > limits[key]) {
        throw new ProblemError(
          403,
          "quota_exceeded",
          `quota "${QUOTA_NAMES[key]}" of the ${principal.tier} plan is ${limits[key]}; ${usage[key]} in use, this request adds ${add}`,
          { field: `quota.${key}` },
        );
      }
    }
  }

  /** Counts this worker's own successful write until the next refresh from the stores. */
  recordUsage(principal: Principal, delta: Partial<Usage>): void {
    const cached = this.usageCache.get(principal.userId);
    if (!cached) return;
    for (const key of Object.keys(QUOTA_NAMES) as (keyof Usage)[]) cached.usage[key] = Math.max(0, cached.usage[key] + (delta[key] ?? 0));
  }

  /** After a delete: the next quota check counts afresh. */
  forgetUsage(principal: Principal): void {
    this.usageCache.delete(principal.userId);
  }

  private async usageOf(userId: string): Promise<Usage> {
    const now = (this.opts.now ?? Date.now)();
    const cached = this.usageCache.get(userId);
    if (cached && now - cached.at < (this.opts.usageTtlMs ?? 5000)) return cached.usage;
    const usage = await this.opts.usage!.usage(userId);
    this.usageCache.set(userId, { usage: { ...usage }, at: now });
    if (this.usageCache.size > 100_000) this.usageCache.delete(this.usageCache.keys().next().value!);
    return usage;
  }
}
