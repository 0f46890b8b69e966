import { t } from "elysia";
import { MAX_WEBHOOKS_PER_COLLECTION, WEBHOOK_EVENT_TYPES } from "../domain/webhook";
import { MAX_WEBHOOK_URL_CHARS } from "../webhooks/target";
import { documentedAs } from "../http/documented";
import { LIMITS } from "../domain/limits";

const EventType = t.Union(
  WEBHOOK_EVENT_TYPES.map((type) => t.Literal(type)),
  { description: "memory.created, memory.replaced (an upsert over an existing memory), memory.patched, memory.deleted, memory.expired" },
);

const Url = t.String({
  minLength: 1,
  maxLength: MAX_WEBHOOK_URL_CHARS,
  description: "where deliveries are POSTed: an absolute https (or http) URL without credentials",
});

const Events = t.Array(EventType, {
  uniqueItems: true,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  description: "the event types to receive; empty or absent: every type",
});

const Description = t.Union([t.String({ maxLength: LIMITS.description }), t.Null()]);

export const CreateWebhookBody = t.Object(
  {
    url: Url,
    events: t.Optional(Events),
    description: t.Optional(Description),
  },
  { additionalProperties: false },
);

const patchFields = {
  url: t.Optional(Url),
  events: t.Optional(Events),
  description: t.Optional(t.Union([t.String({ maxLength: LIMITS.description }), t.Null()], { description: "null clears it" })),
  enabled: t.Optional(
    t.Boolean({ description: "false pauses deliveries (changes wait); true resumes from where it stopped and clears the failure count" }),
  ),
  rotate_secret: t.Optional(t.Boolean({ description: "true: a new signing secret, returned once in this answer" })),
};

// An empty patch is refused by the route, with a message saying what a patch may change.
export const PatchWebhookBody = documentedAs(
  t.Object(patchFields, { additionalProperties: false }),
  t.Object(patchFields, { additionalProperties: false, minProperties: 1 }),
);

export const WebhookSchema = t.Object({
  id: t.String(),
  collection_id: t.String(),
  url: t.String(),
  events: t.Array(t.String(), { description: "the event types it receives; empty: every type" }),
  description: t.Union([t.String(), t.Null()]),
  enabled: t.Boolean(),
  disabled_reason: t.Union([t.String(), t.Null()], { description: "why delivery gave up and disabled it; null otherwise" }),
  delivered_seq: t.Integer({ description: "the collection change-log position delivered so far (see a memory's history `seq`)" }),
  failures: t.Integer({ description: "failed attempts in a row at the pending delivery" }),
  next_attempt_at: t.Union([t.String(), t.Null()], { description: "when the next retry is due, while backing off" }),
  created_at: t.String(),
  updated_at: t.String(),
});

export const WebhookWithSecretSchema = t.Composite([
  WebhookSchema,
  t.Object({
    secret: t.String({ description: "signs every delivery (Memory-Signature header); shown only here, keep it" }),
  }),
]);

export const WebhookAnswerSchema = t.Union([WebhookWithSecretSchema, WebhookSchema]);

export const WebhookListSchema = t.Object({
  webhooks: t.Array(WebhookSchema, { maxItems: MAX_WEBHOOKS_PER_COLLECTION }),
});

export const WebhookParams = t.Object({
  collection_id: t.String(),
  webhook_id: t.String(),
});

export const TestDeliverySchema = t.Object({
  delivery_id: t.String(),
  delivered: t.Boolean({ description: "true when the receiver answered 2xx" }),
  status_code: t.Union([t.Integer(), t.Null()], { description: "the receiver's HTTP status; null when it gave none" }),
  duration_ms: t.Integer(),
  error: t.Union([t.String(), t.Null()]),
});

export const DeliverySchema = t.Object({
  id: t.String({ description: "the Memory-Delivery-Id header of that attempt" }),
  kind: t.Union([t.Literal("events"), t.Literal("test")]),
  at: t.String(),
  first_seq: t.Union([t.Integer(), t.Null()]),
  last_seq: t.Union([t.Integer(), t.Null()]),
  event_count: t.Integer(),
  attempt: t.Integer({ description: "1 for the first attempt at these events, then 2, 3, …" }),
  status_code: t.Union([t.Integer(), t.Null()]),
  succeeded: t.Boolean(),
  duration_ms: t.Integer(),
  error: t.Union([t.String(), t.Null()]),
});

export const DeliveryListSchema = t.Object({
  deliveries: t.Array(DeliverySchema, { description: "newest first" }),
  next_cursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next (older) page; null at the end" }),
});
