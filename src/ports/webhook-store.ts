import type { Page } from "../domain/memory.ts";
import type { NewWebhook, NewWebhookDelivery, Webhook, WebhookDelivery, WebhookPatch, WebhookWithSecret } from "../domain/webhook.ts";

/** A webhook the dispatcher holds for one round, with the collection's newest change-log seq. */
export interface ClaimedWebhook {
  webhook: WebhookWithSecret;
  /** The collection's last change seq when claimed. */
  head_seq: number;
  /** Proves the claim: the calls below change the webhook only while it still holds. */
  lease: string;
}

/**
 * Webhooks of collections and their delivery log. The caller checks that the collection is the
 * principal's; ids of other collections are simply not found.
 */
export interface WebhookStore {
  /**
   * A new webhook, enabled, that receives the changes committed after it (its cursor starts at
   * the collection's current last seq). CollectionNotFoundError when the collection is gone.
   */
  create(collectionId: string, input: NewWebhook): Promise<Webhook>;
  list(collectionId: string): Promise<Webhook[]>;
  get(collectionId: string, webhookId: string): Promise<Webhook | null>;
  update(collectionId: string, webhookId: string, patch: WebhookPatch): Promise<Webhook | null>;
  delete(collectionId: string, webhookId: string): Promise<boolean>;
  /** The webhook with its signing secret (the test route signs with it). */
  getWithSecret(collectionId: string, webhookId: string): Promise<WebhookWithSecret | null>;

  /**
   * Up to `limit` enabled webhooks with changes past their cursor, whose backoff has passed and
   * that no other dispatcher holds, each leased until `now + leaseMs`.
   */
  claimDue(now: Date, leaseMs: number, limit: number): Promise<ClaimedWebhook[]>;
  /** After a success: the cursor moves to `deliveredSeq`, failures and backoff are cleared. */
  advance(webhookId: string, lease: string, deliveredSeq: number): Promise<boolean>;
  /** After a failure: `failures` and the next attempt's time; `disable` gives up (with its reason). */
  fail(webhookId: string, lease: string, outcome: { failures: number; nextAttemptAt: Date; disable: string | null }): Promise<boolean>;
  /** Gives a claim back without changing anything else (shutdown). */
  release(webhookId: string, lease: string): Promise<void>;

  recordDelivery(delivery: NewWebhookDelivery): Promise<void>;
  /** A webhook's delivery log, newest first. */
  deliveries(collectionId: string, webhookId: string, opts: { limit: number; cursor?: string }): Promise<Page<WebhookDelivery>>;
  /** Deletes up to `limit` log entries older than `before`; returns how many. */
  pruneDeliveries(before: Date, limit: number): Promise<number>;
}
