import type { Logger } from "../log";
import type { MemoryHistoryStore } from "../ports/memory-history";
import type { ClaimedWebhook, WebhookStore } from "../ports/webhook-store";
import { retryDelayMs } from "../domain/webhook";
import { deliveryBody, eventOf, type WebhookEvent } from "./payload";
import type { SendOutcome, SendRequest } from "./sender";

export interface DispatcherSettings {
  /** How often an idle dispatcher looks for changes to deliver (WEBHOOK_POLL_MS). */
  pollMs: number;
  /** Most events in one delivery (WEBHOOK_BATCH_SIZE). */
  batchSize: number;
  /** Most bytes of events in one delivery (at least one event is always sent). */
  maxBodyBytes: number;
  /** Failed attempts in a row after which a webhook is disabled (WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** First retry delay; doubles per failure up to `retryMaxMs` (WEBHOOK_RETRY_BASE_MS, _MAX_MS). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Webhooks one round delivers to at once. */
  concurrency: number;
  /** Bound on one delivery (the lease outlasts it). */
  timeoutMs: number;
}

export interface DispatcherDeps {
  store: WebhookStore;
  history: MemoryHistoryStore;
  send: (request: SendRequest) => Promise<SendOutcome>;
  log: Logger;
  settings: DispatcherSettings;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
}

/** Running totals, for /metrics. */
export interface WebhookCounters {
  delivered: number;
  failed: number;
  disabled: number;
  events: number;
}

/**
 * Delivers each enabled webhook's collection changes, batch after batch in log order. Several
 * dispatchers (workers, hosts) may run over the same stores: a webhook is leased to one at a
 * time, so its deliveries never overlap or reorder. A batch is retried (same events, new
 * delivery id) until a 2xx, with doubling backoff; after `maxAttempts` failures in a row the
 * webhook is disabled, its cursor kept, and re-enabling it resumes from there.
 */
export class WebhookDispatcher {
  readonly counters: WebhookCounters = { delivered: 0, failed: 0, disabled: 0, events: 0 };
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? Date.now;
  }

  private get leaseMs(): number {
    // a claim outlives the deliveries of one turn (at most 4 batches, each bounded by the timeout)
    return 5 * this.deps.settings.timeoutMs + 5_000;
  }

  /** Starts polling; the loop never keeps the process alive. */
  start(): this {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch((error) => {
          this.deps.log.warn("webhook delivery round failed; will retry", { error: String(error) });
          return 0;
        })
        .then((worked) => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, worked > 0 ? 0 : this.deps.settings.pollMs);
          (this.timer as { unref?: () => void }).unref?.();
        });
    };
    this.timer = setTimeout(tick, 0);
    (this.timer as { unref?: () => void }).unref?.();
    return this;
  }

  /** Stops polling and waits for the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => {});
  }

  /** One round: claims the due webhooks and delivers to each; returns how many steps (deliveries, cursor moves) it made. */
  async runOnce(): Promise<number> {
    const claimed = await this.deps.store.claimDue(new Date(this.now()), this.leaseMs, this.deps.settings.concurrency);
    const counts = await Promise.all(claimed.map((claim) => this.serve(claim)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Up to four batches to one webhook, stopping at its first failure; then the claim is given back. Returns the steps made. */
  private async serve(claim: ClaimedWebhook): Promise<number> {
    const { webhook, lease } = claim;
    let cursor = webhook.delivered_seq;
    let failures = webhook.failures;
    let deliveries = 0;
    let progressed = 0;
    try {
      for (let turn = 0; turn < 4 && cursor < claim.head_seq; turn++) {
        const changes = await this.deps.history.changesSince(webhook.collection_id, cursor, this.deps.settings.batchSize);
        if (changes.length === 0) {
          // the entries up to the head were pruned (HISTORY_RETENTION_DAYS) while it was disabled
          await this.deps.store.advance(webhook.id, lease, claim.head_seq);
          progressed++;
          break;
        }
        const { events, lastSeq } = this.batchOf(webhook.collection_id, webhook.events, changes);
        if (events.length === 0) {
          await this.deps.store.advance(webhook.id, lease, lastSeq);
          cursor = lastSeq;
          progressed++; // no request, but progress: the loop goes on at once
          continue;
        }
        const deliveryId = crypto.randomUUID();
        const outcome = await this.deps.send({
          url: webhook.url,
          secret: webhook.secret,
          webhookId: webhook.id,
          deliveryId,
          body: deliveryBody({
            type: "memory.changes",
            deliveryId,
            webhookId: webhook.id,
            collectionId: webhook.collection_id,
            events,
            sentAt: new Date(this.now()).toISOString(),
          }),
        });
        deliveries++;
        await this.deps.store.recordDelivery({
          id: deliveryId,
          webhook_id: webhook.id,
          kind: "events",
          at: new Date(this.now()).toISOString(),
          first_seq: events[0]!.seq,
          last_seq: events[events.length - 1]!.seq,
          event_count: events.length,
          attempt: failures + 1,
          ...outcome,
        });
        if (outcome.succeeded) {
          this.counters.delivered++;
          this.counters.events += events.length;
          failures = 0;
          cursor = lastSeq;
          if (!(await this.deps.store.advance(webhook.id, lease, lastSeq))) return deliveries; // lease lost
          continue;
        }
        this.counters.failed++;
        failures++;
        const { maxAttempts, retryBaseMs, retryMaxMs } = this.deps.settings;
        const disable = failures >= maxAttempts ? `disabled after ${failures} failed attempts in a row; the last: ${outcome.error}` : null;
        if (disable !== null) {
          this.counters.disabled++;
          this.deps.log.warn("webhook disabled after repeated delivery failures", { webhook_id: webhook.id, failures });
        }
        await this.deps.store.fail(webhook.id, lease, {
          failures,
          nextAttemptAt: new Date(this.now() + retryDelayMs(failures, retryBaseMs, retryMaxMs)),
          disable,
        });
        return deliveries;
      }
      await this.deps.store.release(webhook.id, lease);
      return deliveries + progressed;
    } catch (error) {
      // a store error: the lease runs out and another round (or worker) retries the same batch
      this.deps.log.warn("webhook delivery interrupted; it will be retried", { webhook_id: webhook.id, error: String(error) });
      return deliveries;
    }
  }

  /** The subscribed events of `changes`, cut at the batch's byte budget; `lastSeq`: the last change it covers. */
  private batchOf(collectionId: string, subscribed: readonly string[], changes: Awaited<ReturnType<MemoryHistoryStore["changesSince"]>>) {
    const events: WebhookEvent[] = [];
    let bytes = 0;
    let lastSeq = changes[0]!.seq;
    for (const change of changes) {
      const event = eventOf(collectionId, change);
      if (subscribed.length === 0 || subscribed.includes(event.type)) {
        const size = JSON.stringify(event).length;
        if (events.length > 0 && bytes + size > this.deps.settings.maxBodyBytes) break;
        events.push(event);
        bytes += size;
      }
      lastSeq = change.seq;
    }
    return { events, lastSeq };
  }
}
