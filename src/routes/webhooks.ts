import { Elysia, t } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import { InvalidInputError, NotFoundError } from "../domain/errors";
import { MAX_WEBHOOKS_PER_COLLECTION, type Webhook } from "../domain/webhook";
import { AUTHENTICATED, WITH_BODY, describeRoute, problems } from "../http/openapi";
import { ProblemError } from "../http/problem";
import { parsePageSize } from "../http/query-params";
import type { CollectionStore } from "../ports/collection-store";
import type { WebhookStore } from "../ports/webhook-store";
import { deliveryBody } from "../webhooks/payload";
import type { SendOutcome, SendRequest } from "../webhooks/sender";
import { newWebhookSecret } from "../webhooks/signature";
import { urlProblem, type TargetPolicy } from "../webhooks/target";
import { HistoryQuery as PageQuery } from "./schemas";
import {
  CreateWebhookBody,
  DeliveryListSchema,
  PatchWebhookBody,
  TestDeliverySchema,
  WebhookAnswerSchema,
  WebhookListSchema,
  WebhookParams,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "./webhook-schemas";

export interface WebhookRoutesDeps {
  /** Resolves `principal` (401 otherwise), spends the budget; an API key needs the admin scope here. */
  auth: AuthPlugin;
  collections: CollectionStore;
  webhooks: WebhookStore;
  /** Which URLs webhooks may use (WEBHOOK_PRIVATE_TARGETS, WEBHOOK_ALLOWED_HOSTS). */
  policy: TargetPolicy;
  /** One signed delivery (src/webhooks/sender.ts); the test route sends with it. */
  send: (request: SendRequest) => Promise<SendOutcome>;
}

const present = ({ id, collection_id, url, events, description, enabled, disabled_reason, delivered_seq, failures, next_attempt_at, created_at, updated_at }: Webhook) => ({
  id,
  collection_id,
  url,
  events,
  description,
  enabled,
  disabled_reason,
  delivered_seq,
  failures,
  next_attempt_at,
  created_at,
  updated_at,
});

const CONFIGURE =
  "Deliveries are POSTed as JSON `{type: \"memory.changes\", delivery_id, webhook_id, collection_id, sent_at, events: [...]}`, " +
  "each event `{id, type, seq, memory_id, at, by, old, new}` in change-log order, signed in the `Memory-Signature: t=<unix>,v1=<hex>` header " +
  "(HMAC-SHA256 of `<t>.<body>` with the webhook's secret). At least once: a batch is retried with doubling backoff until the receiver " +
  "answers 2xx (deduplicate by event `id`); after WEBHOOK_MAX_ATTEMPTS failures in a row the webhook is disabled, and re-enabling it " +
  "resumes where it stopped. An API key needs the admin scope.";

/** A collection's webhooks: register, list, change, delete, test one, and read its delivery log. */
export function webhookRoutes(deps: WebhookRoutesDeps) {
  const ownCollection = async (userId: string, collectionId: string) => {
    if (!(await deps.collections.get(userId, collectionId))) throw new NotFoundError("collection");
  };
  const checkUrl = (url: string) => {
    const problem = urlProblem(url, deps.policy);
    if (problem !== null) throw new InvalidInputError("url", problem);
  };
  const found = (webhook: Webhook | null): Webhook => {
    if (webhook === null) throw new NotFoundError("webhook");
    return webhook;
  };

  return new Elysia({ name: "webhook-routes", prefix: "/v1/collections/:collection_id/webhooks", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, params, body, set }) => {
        await ownCollection(principal.userId, params.collection_id);
        checkUrl(body.url);
        if ((await deps.webhooks.list(params.collection_id)).length >= MAX_WEBHOOKS_PER_COLLECTION) {
          throw new ProblemError(409, "conflict", `a collection has at most ${MAX_WEBHOOKS_PER_COLLECTION} webhooks; delete one first`);
        }
        const secret = newWebhookSecret();
        const webhook = await deps.webhooks.create(params.collection_id, {
          url: body.url,
          events: [...(body.events ?? [])],
          description: body.description ?? null,
          secret,
        });
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return { ...present(webhook), secret };
      },
      {
        body: CreateWebhookBody,
        response: { 201: WebhookWithSecretSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute(
          "webhooks",
          "Register a webhook: the collection's changes from now on, POSTed to a URL",
          `${CONFIGURE} The answer carries the signing \`secret\`, shown only once.`,
        ),
      },
    )
    .get(
      "/",
      async ({ principal, params }) => {
        await ownCollection(principal.userId, params.collection_id);
        return { webhooks: (await deps.webhooks.list(params.collection_id)).map(present) };
      },
      {
        response: { 200: WebhookListSchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("webhooks", "List a collection's webhooks, with their delivery state"),
      },
    )
    .get(
      "/:webhook_id",
      async ({ principal, params }) => {
        await ownCollection(principal.userId, params.collection_id);
        return present(found(await deps.webhooks.get(params.collection_id, params.webhook_id)));
      },
      {
        params: WebhookParams,
        response: { 200: WebhookSchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("webhooks", "Get one webhook and its delivery state (cursor, failures, next retry)"),
      },
    )
    .patch(
      "/:webhook_id",
      async ({ principal, params, body, set }) => {
        if (Object.keys(body).length === 0) {
          throw new InvalidInputError("body", "give url, events, description, enabled and/or rotate_secret to change");
        }
        await ownCollection(principal.userId, params.collection_id);
        if (body.url !== undefined) checkUrl(body.url);
        const secret = body.rotate_secret ? newWebhookSecret() : undefined;
        const webhook = found(
          await deps.webhooks.update(params.collection_id, params.webhook_id, {
            url: body.url,
            events: body.events && [...body.events],
            description: body.description,
            enabled: body.enabled,
            secret,
          }),
        );
        if (secret === undefined) return present(webhook);
        set.headers["cache-control"] = "no-store";
        return { ...present(webhook), secret };
      },
      {
        params: WebhookParams,
        body: PatchWebhookBody,
        response: { 200: WebhookAnswerSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404) },
        detail: describeRoute(
          "webhooks",
          "Change a webhook: URL, events, description; pause or resume it; rotate its secret",
          "Each field given replaces it. `enabled: true` on a disabled webhook clears its failures and resumes delivery from its cursor: nothing committed meanwhile is skipped (unless older than HISTORY_RETENTION_DAYS). `rotate_secret: true` answers with the new `secret`; deliveries from then on are signed with it.",
        ),
      },
    )
    .delete(
      "/:webhook_id",
      async ({ principal, params, set }) => {
        await ownCollection(principal.userId, params.collection_id);
        if (!(await deps.webhooks.delete(params.collection_id, params.webhook_id))) throw new NotFoundError("webhook");
        set.status = 204;
      },
      {
        params: WebhookParams,
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("webhooks", "Delete a webhook and its delivery log"),
      },
    )
    .post(
      "/:webhook_id/test",
      async ({ principal, params }) => {
        await ownCollection(principal.userId, params.collection_id);
        const webhook = await deps.webhooks.getWithSecret(params.collection_id, params.webhook_id);
        if (webhook === null) throw new NotFoundError("webhook");
        const deliveryId = crypto.randomUUID();
        const at = new Date().toISOString();
        const outcome = await deps.send({
          url: webhook.url,
          secret: webhook.secret,
          webhookId: webhook.id,
          deliveryId,
          body: deliveryBody({ type: "webhook.test", deliveryId, webhookId: webhook.id, collectionId: webhook.collection_id, events: [], sentAt: at }),
        });
        await deps.webhooks.recordDelivery({
          id: deliveryId,
          webhook_id: webhook.id,
          kind: "test",
          at,
          first_seq: null,
          last_seq: null,
          event_count: 0,
          attempt: 1,
          ...outcome,
        });
        return {
          delivery_id: deliveryId,
          delivered: outcome.succeeded,
          status_code: outcome.status_code,
          duration_ms: outcome.duration_ms,
          error: outcome.error,
        };
      },
      {
        params: WebhookParams,
        response: { 200: TestDeliverySchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute(
          "webhooks",
          "Send a signed test delivery now and say how the receiver answered",
          "POSTs `{type: \"webhook.test\", events: []}`, signed like every delivery, even to a disabled webhook, and records it in the delivery log. The answer is 200 whatever the receiver did: `delivered` and `status_code` tell.",
        ),
      },
    )
    .get(
      "/:webhook_id/deliveries",
      async ({ principal, params, query }) => {
        await ownCollection(principal.userId, params.collection_id);
        found(await deps.webhooks.get(params.collection_id, params.webhook_id));
        const page = await deps.webhooks.deliveries(params.collection_id, params.webhook_id, {
          limit: parsePageSize(query.limit),
          cursor: query.cursor,
        });
        return {
          deliveries: page.items.map(({ webhook_id: _w, ...delivery }) => delivery),
          next_cursor: page.next_cursor,
        };
      },
      {
        params: WebhookParams,
        query: PageQuery,
        response: { 200: DeliveryListSchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute(
          "webhooks",
          "A webhook's delivery log, newest first: every attempt with its status, duration and error",
          "Kept for WEBHOOK_DELIVERY_RETENTION_DAYS (default 7).",
        ),
      },
    );
}
