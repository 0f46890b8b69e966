/**
 * Webhooks: a collection's changes POSTed to a URL its owner registers, in log order, at least
 * once. A webhook follows the collection's change log (memory-change.ts) with a cursor
 * (`delivered_seq`) that moves only after the receiver answered 2xx, so a change is delivered
 * after its write committed and is never skipped; a crash between the answer and the cursor's
 * move delivers it again (receivers deduplicate by event id).
 */
import type { ChangeOp } from "./memory-change.ts";

/** The event types, one per change-log op. */
export const WEBHOOK_EVENT_TYPES = [
  "memory.created",
  "memory.replaced",
  "memory.patched",
  "memory.deleted",
  "memory.expired",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const TYPE_OF_OP: Record<ChangeOp, WebhookEventType> = {
  create: "memory.created",
  replace: "memory.replaced",
  patch: "memory.patched",
  delete: "memory.deleted",
  expire: "memory.expired",
};

export const eventTypeOf = (op: ChangeOp): WebhookEventType => TYPE_OF_OP[op];

/** At most this many webhooks per collection. */
export const MAX_WEBHOOKS_PER_COLLECTION = 10;

export interface Webhook {
  id: string;
  collection_id: string;
  url: string;
  /** The event types it receives; empty = every type. */
  events: WebhookEventType[];
  description: string | null;
  /** False: nothing is delivered (set by its owner, or after too many failed attempts in a row). */
  enabled: boolean;
  /** Why it is disabled, when the delivery gave up (null otherwise). */
  disabled_reason: string | null;
  /** The last change-log seq delivered (or skipped as not subscribed). */
  delivered_seq: number;
  /** Failed attempts in a row at delivering the next batch. */
  failures: number;
  /** When the next attempt is due after a failure (ISO-8601); null when not backing off. */
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A webhook with the secret that signs its deliveries (stores and the dispatcher only). */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface NewWebhook {
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret: string;
}

export interface WebhookPatch {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  /** true re-enables (and resets the failure count and backoff); false disables. */
  enabled?: boolean;
  /** A new signing secret. */
  secret?: string;
}

/** One attempt at a delivery, as the delivery log keeps it. */
export interface WebhookDelivery {
  /** Unique per attempt (the `Memory-Delivery-Id` header). */
  id: string;
  webhook_id: string;
  /** `events`: changes of the log; `test`: POST …/webhooks/:id/test. */
  kind: "events" | "test";
  at: string;
  /** The change-log seqs it carried (null for a test). */
  first_seq: number | null;
  last_seq: number | null;
  event_count: number;
  /** 1 for the first attempt at this batch, then 2, 3, … */
  attempt: number;
  /** The receiver's HTTP status; null when no answer came (connection refused, timeout). */
  status_code: number | null;
  succeeded: boolean;
  duration_ms: number;
  /** Why it failed, in a line; null on success. */
  error: string | null;
}

export type NewWebhookDelivery = WebhookDelivery;

/**
 * The wait before attempt `failures + 1` after `failures` failed ones in a row: doubling from
 * `baseMs`, capped at `maxMs`, with ±20% jitter so that many webhooks failing together (a
 * receiver's outage) do not retry in lockstep.
 */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, failures - 1), 30);
  const delay = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(delay * (0.8 + 0.4 * random()));
}
