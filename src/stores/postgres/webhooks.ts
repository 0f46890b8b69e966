import type { Page } from "../../domain/memory.ts";
import type { NewWebhook, NewWebhookDelivery, Webhook, WebhookDelivery, WebhookEventType, WebhookPatch, WebhookWithSecret } from "../../domain/webhook.ts";
import { CollectionNotFoundError } from "../../domain/errors.ts";
import type { ClaimedWebhook, WebhookStore } from "../../ports/webhook-store.ts";
import { decodeSeqCursor, encodeSeqCursor } from "../../domain/seq-cursor.ts";
import { clampCount } from "../shared/checks.ts";
import { pageOfRows } from "../shared/page.ts";
import { isForeignKeyViolation } from "./errors.ts";
import type { PgPool } from "./pool.ts";
import { isoSql, isUuid, NOW_MS } from "./rows.ts";

/**
 * Webhooks and their delivery log (self-contained migration: renumber freely). A webhook's
 * `delivered_seq` is its cursor in the collection's change log; `lease` / `leased_until` give it
 * to one dispatcher at a time.
 */
export const WEBHOOKS_MIGRATION = `
  CREATE TABLE IF NOT EXISTS webhooks (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    url text NOT NULL,
    events text[] NOT NULL,
    description text,
    secret text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    delivered_seq bigint NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease uuid,
    leased_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  );
  CREATE INDEX IF NOT EXISTS webhooks_collection ON webhooks (collection_id, seq);
  CREATE INDEX IF NOT EXISTS webhooks_enabled ON webhooks (collection_id) WHERE enabled;

  CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL,
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('events', 'test')),
    at timestamptz NOT NULL,
    first_seq bigint,
    last_seq bigint,
    event_count integer NOT NULL,
    attempt integer NOT NULL,
    status_code integer,
    succeeded boolean NOT NULL,
    duration_ms integer NOT NULL,
    error text
  );
  CREATE INDEX IF NOT EXISTS webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq);
  CREATE INDEX IF NOT EXISTS webhook_deliveries_at ON webhook_deliveries (at);
`;

const COLUMNS = `w.id::text AS id, w.collection_id::text AS collection_id, w.url, w.events, w.description, w.enabled,
  w.disabled_reason, w.delivered_seq::text AS delivered_seq, w.failures, ${isoSql("w.next_attempt_at")} AS next_attempt_at,
  ${isoSql("w.created_at")} AS created_at, ${isoSql("w.updated_at")} AS updated_at`;

type Row = {
  id: string;
  collection_id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  delivered_seq: string;
  failures: number;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
};

const toWebhook = ({ secret: _secret, ...r }: Row): Webhook => ({
  ...r,
  events: r.events as WebhookEventType[],
  delivered_seq: Number(r.delivered_seq),
});

type DeliveryRow = Omit<WebhookDelivery, "first_seq" | "last_seq"> & {
  seq: string;
  first_seq: string | null;
  last_seq: string | null;
};

const DELIVERY_COLUMNS = `d.seq::text AS seq, d.id::text AS id, d.webhook_id::text AS webhook_id, d.kind, ${isoSql("d.at")} AS at,
  d.first_seq::text AS first_seq, d.last_seq::text AS last_seq, d.event_count, d.attempt, d.status_code, d.succeeded,
  d.duration_ms, d.error`;

const toDelivery = ({ seq: _seq, ...r }: DeliveryRow): WebhookDelivery => ({
  ...r,
  first_seq: r.first_seq === null ? null : Number(r.first_seq),
  last_seq: r.last_seq === null ? null : Number(r.last_seq),
});

export class PostgresWebhookStore implements WebhookStore {
  constructor(private readonly pool: PgPool) {}

  async create(collectionId: string, input: NewWebhook): Promise<Webhook> {
    if (!isUuid(collectionId)) throw new CollectionNotFoundError(collectionId);
    try {
      const { rows } = await this.pool.query<Row>(
        `WITH w AS (
           INSERT INTO webhooks (id, collection_id, url, events, description, secret, delivered_seq, created_at, updated_at)
           SELECT $1, $2, $3, $4, $5, $6, coalesce((SELECT seq FROM memory_change_heads WHERE collection_id = $2), 0),
             ${NOW_MS}, ${NOW_MS}
           RETURNING *)
         SELECT ${COLUMNS} FROM w`,
        [crypto.randomUUID(), collectionId, input.url, input.events, input.description, input.secret],
      );
      return toWebhook(rows[0]!);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new CollectionNotFoundError(collectionId);
      throw error;
    }
  }

  async list(collectionId: string): Promise<Webhook[]> {
    if (!isUuid(collectionId)) return [];
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM webhooks w WHERE w.collection_id = $1 ORDER BY w.seq`, [collectionId]);
    return rows.map(toWebhook);
  }

  async get(collectionId: string, webhookId: string): Promise<Webhook | null> {
    const found = await this.getWithSecret(collectionId, webhookId);
    if (found === null) return null;
    const { secret: _secret, ...webhook } = found;
    return webhook;
  }

  async getWithSecret(collectionId: string, webhookId: string): Promise<WebhookWithSecret | null> {
    if (!isUuid(collectionId) || !isUuid(webhookId)) return null;
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS}, w.secret FROM webhooks w WHERE w.collection_id = $1 AND w.id = $2`,
      [collectionId, webhookId],
    );
    const row = rows[0];
    return row ? { ...toWebhook(row), secret: row.secret! } : null;
  }

  async update(collectionId: string, webhookId: string, patch: WebhookPatch): Promise<Webhook | null> {
    if (!isUuid(collectionId) || !isUuid(webhookId)) return null;
    const { rows } = await this.pool.query<Row>(
      `WITH w AS (
         UPDATE webhooks SET
           url = coalesce($3, url),
           events = coalesce($4, events),
           description = CASE WHEN $5 THEN $6 ELSE description END,
           secret = coalesce($7, secret),
           enabled = coalesce($8, enabled),
           disabled_reason = CASE WHEN $8 IS NULL THEN disabled_reason ELSE NULL END,
           failures = CASE WHEN $8 THEN 0 ELSE failures END,
           next_attempt_at = CASE WHEN $8 THEN NULL ELSE next_attempt_at END,
           updated_at = ${NOW_MS}
         WHERE collection_id = $1 AND id = $2
         RETURNING *)
       SELECT ${COLUMNS} FROM w`,
      [
        collectionId,
        webhookId,
        patch.url ?? null,
        patch.events ?? null,
        patch.description !== undefined,
        patch.description ?? null,
        patch.secret ?? null,
        patch.enabled ?? null,
      ],
    );
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async delete(collectionId: string, webhookId: string): Promise<boolean> {
    if (!isUuid(collectionId) || !isUuid(webhookId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM webhooks WHERE collection_id = $1 AND id = $2`, [collectionId, webhookId]);
    return (rowCount ?? 0) > 0;
  }

  async claimDue(now: Date, leaseMs: number, limit: number): Promise<ClaimedWebhook[]> {
    const lease = crypto.randomUUID();
    const { rows } = await this.pool.query<Row & { head_seq: string }>(
      `WITH due AS (
         SELECT w.id, h.seq AS head_seq FROM webhooks w JOIN memory_change_heads h ON h.collection_id = w.collection_id
         WHERE w.enabled AND h.seq > w.delivered_seq
           AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $1)
           AND (w.leased_until IS NULL OR w.leased_until <= $1)
         ORDER BY w.next_attempt_at NULLS FIRST, w.seq
         LIMIT $4
         FOR UPDATE OF w SKIP LOCKED
       ), w AS (
         UPDATE webhooks SET lease = $2, leased_until = $1::timestamptz + $3 * interval '1 millisecond'
         FROM due WHERE webhooks.id = due.id
         RETURNING webhooks.*, due.head_seq
       )
       SELECT ${COLUMNS}, w.secret, w.head_seq::text AS head_seq FROM w`,
      [now.toISOString(), lease, Math.max(1, Math.trunc(leaseMs)), clampCount(limit, 1000)],
    );
    return rows.map((row) => ({ webhook: { ...toWebhook(row), secret: row.secret! }, head_seq: Number(row.head_seq), lease }));
  }

  async advance(webhookId: string, lease: string, deliveredSeq: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE webhooks SET delivered_seq = greatest(delivered_seq, $3::bigint), failures = 0, next_attempt_at = NULL
       WHERE id = $1 AND lease = $2`,
      [webhookId, lease, deliveredSeq],
    );
    return (rowCount ?? 0) > 0;
  }

  async fail(webhookId: string, lease: string, outcome: { failures: number; nextAttemptAt: Date; disable: string | null }): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE webhooks SET failures = $3, next_attempt_at = $4, lease = NULL, leased_until = NULL,
         enabled = enabled AND $5::text IS NULL, disabled_reason = coalesce($5, disabled_reason)
       WHERE id = $1 AND lease = $2`,
      [webhookId, lease, outcome.failures, outcome.nextAttemptAt.toISOString(), outcome.disable],
    );
    return (rowCount ?? 0) > 0;
  }

  async release(webhookId: string, lease: string): Promise<void> {
    await this.pool.query(`UPDATE webhooks SET lease = NULL, leased_until = NULL WHERE id = $1 AND lease = $2`, [webhookId, lease]);
  }

  async recordDelivery(d: NewWebhookDelivery): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO webhook_deliveries (id, webhook_id, kind, at, first_seq, last_seq, event_count, attempt, status_code, succeeded, duration_ms, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [d.id, d.webhook_id, d.kind, d.at, d.first_seq, d.last_seq, d.event_count, d.attempt, d.status_code, d.succeeded, d.duration_ms, d.error],
      );
    } catch (error) {
      if (isForeignKeyViolation(error)) return; // the webhook was deleted meanwhile
      throw error;
    }
  }

  async deliveries(collectionId: string, webhookId: string, opts: { limit: number; cursor?: string }): Promise<Page<WebhookDelivery>> {
    const before = opts.cursor === undefined ? null : decodeSeqCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, 1000));
    if (!isUuid(collectionId) || !isUuid(webhookId)) return { items: [], next_cursor: null };
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
       WHERE w.collection_id = $1 AND d.webhook_id = $2 AND ($3::bigint IS NULL OR d.seq < $3::bigint)
       ORDER BY d.seq DESC LIMIT $4`,
      [collectionId, webhookId, before, limit + 1],
    );
    return pageOfRows(rows, limit, toDelivery, encodeSeqCursor);
  }

  async pruneDeliveries(before: Date, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE at < $1 LIMIT $2)`,
      [before.toISOString(), clampCount(limit, 1_000_000)],
    );
    return rowCount ?? 0;
  }
}
