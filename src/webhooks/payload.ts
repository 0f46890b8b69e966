import type { MemoryChange, MemoryState } from "../domain/memory-change";
import { eventTypeOf, type WebhookEventType } from "../domain/webhook";

/** One change as a webhook receives it. */
export interface WebhookEvent {
  /** `<collection_id>:<seq>`: the same on every redelivery; deduplicate by it. */
  id: string;
  type: WebhookEventType;
  seq: number;
  memory_id: string;
  at: string;
  by: string | null;
  old: MemoryState | null;
  new: MemoryState | null;
}

export const eventOf = (collectionId: string, change: MemoryChange): WebhookEvent => ({
  id: `${collectionId}:${change.seq}`,
  type: eventTypeOf(change.op),
  seq: change.seq,
  memory_id: change.memory_id,
  at: change.at,
  by: change.by,
  old: change.old,
  new: change.new,
});

/** A delivery's body: `type` "memory.changes" with events in log order, or "webhook.test" with none. */
export function deliveryBody(d: {
  type: "memory.changes" | "webhook.test";
  deliveryId: string;
  webhookId: string;
  collectionId: string;
  events: WebhookEvent[];
  sentAt: string;
}): string {
  return JSON.stringify({
    type: d.type,
    delivery_id: d.deliveryId,
    webhook_id: d.webhookId,
    collection_id: d.collectionId,
    sent_at: d.sentAt,
    events: d.events,
  });
}
