import type { Logger } from "../log";
import type { ExpiringMemoryStore } from "../ports/memory-expiry";
import type { MemoryHistoryStore } from "../ports/memory-history";
import type { WebhookStore } from "../ports/webhook-store";
import { every, type PeriodicTask } from "./periodic";

export interface SweeperSettings {
  /** Seconds between purges of expired memories; 0 = no purge (they stay invisible all the same). */
  expirySweepIntervalSeconds: number;
  /** Days a change-log entry is kept; 0 = forever. */
  historyRetentionDays: number;
  /** Seconds between prunings of the change log (and of the webhook delivery log). */
  historyPruneIntervalSeconds: number;
  /** Days a webhook delivery-log entry is kept; 0 or absent = forever. */
  webhookDeliveryRetentionDays?: number;
}

export interface SweeperDeps {
  expiry?: ExpiringMemoryStore;
  history?: MemoryHistoryStore;
  webhooks?: WebhookStore;
  settings: SweeperSettings;
  log: Logger;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
}

/** Rows one statement handles; a run repeats until a round comes back short (or `MAX_ROUNDS`). */
const BATCH = 500;
const MAX_ROUNDS = 200;

async function drain(step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const n = await step();
    total += n;
    if (n < BATCH) break;
  }
  return total;
}

export interface Sweepers {
  /** One purge of expired memories now; returns how many. */
  purgeExpired(): Promise<number>;
  /** One pruning of the change log now; returns how many entries went. */
  pruneHistory(): Promise<number>;
  /** One pruning of the webhook delivery log now; returns how many entries went. */
  pruneDeliveries(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The background upkeep of memories: expired ones purged (through the store's delete path, so
 * derived indexes follow and history records `expire`), and the change log pruned to its
 * retention. Every worker may run them: both are idempotent (a memory is purged once, an entry
 * deleted once), so no leader is needed.
 */
export function startSweepers(deps: SweeperDeps): Sweepers {
  const now = deps.now ?? Date.now;
  const { settings, log } = deps;
  const purgeExpired = async () => {
    if (!deps.expiry) return 0;
    const purged = await drain(() => deps.expiry!.purgeExpired(BATCH));
    if (purged > 0) log.info("expired memories purged", { purged });
    return purged;
  };
  const pruneHistory = async () => {
    if (!deps.history || settings.historyRetentionDays <= 0) return 0;
    const before = new Date(now() - settings.historyRetentionDays * 86_400_000);
    const pruned = await drain(() => deps.history!.pruneHistory(before, BATCH));
    if (pruned > 0) log.info("history entries past retention pruned", { pruned, before: before.toISOString() });
    return pruned;
  };
  const deliveryRetentionDays = settings.webhookDeliveryRetentionDays ?? 0;
  const pruneDeliveries = async () => {
    if (!deps.webhooks || deliveryRetentionDays <= 0) return 0;
    const before = new Date(now() - deliveryRetentionDays * 86_400_000);
    const pruned = await drain(() => deps.webhooks!.pruneDeliveries(before, BATCH));
    if (pruned > 0) log.info("webhook delivery-log entries past retention pruned", { pruned, before: before.toISOString() });
    return pruned;
  };
  const tasks: PeriodicTask[] = [];
  if (deps.expiry && settings.expirySweepIntervalSeconds > 0) {
    tasks.push(every(settings.expirySweepIntervalSeconds * 1000, "expiry sweep", async () => void (await purgeExpired()), log));
  }
  if (deps.history && settings.historyRetentionDays > 0) {
    tasks.push(every(settings.historyPruneIntervalSeconds * 1000, "history pruning", async () => void (await pruneHistory()), log));
  }
  if (deps.webhooks && deliveryRetentionDays > 0) {
    tasks.push(every(settings.historyPruneIntervalSeconds * 1000, "webhook delivery-log pruning", async () => void (await pruneDeliveries()), log));
  }
  return {
    purgeExpired,
    pruneHistory,
    pruneDeliveries,
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
