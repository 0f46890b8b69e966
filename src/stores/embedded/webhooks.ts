import type { Database } from "bun:sqlite";
import type { Page } from "../../domain/memory.ts";
import type { NewWebhook, NewWebhookDelivery, Webhook, WebhookDelivery, WebhookEventType, WebhookPatch, WebhookWithSecret } from "../../domain/webhook.ts";
import { CollectionNotFoundError } from "../../domain/errors.ts";
import type { ClaimedWebhook, WebhookStore } from "../../ports/webhook-store.ts";
import { clampCount } from "../shared/checks.ts";
import { pageOfRows } from "../shared/page.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import type { Migration } from "./schema.ts";

/**
 * Webhooks and their delivery log (self-contained migration: renumber freely). Timestamps are
 * ISO-8601 text, which sorts like the instants it names; `events` is a JSON array.
 */
export const webhooksMigration: Migration = (db) => {
  db.run(`CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    delivered_seq INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    lease TEXT,
    leased_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`);
  db.run(`CREATE INDEX IF NOT EXISTS webhooks_collection ON webhooks (collection_id)`);
  db.run(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    first_seq INTEGER,
    last_seq INTEGER,
    event_count INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    succeeded INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    error TEXT
  )`);
  db.run(`CREATE INDEX IF NOT EXISTS webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq)`);
  db.run(`CREATE INDEX IF NOT EXISTS webhook_deliveries_at ON webhook_deliveries (at)`);
};

const COLUMNS = `w.id, w.collection_id, w.url, w.events, w.description, w.enabled, w.disabled_reason, w.delivered_seq,
  w.failures, w.next_attempt_at, w.created_at, w.updated_at`;

interface Row {
  id: string;
  collection_id: string;
  url: string;
  events: string;
  description: string | null;
  enabled: number;
  disabled_reason: string | null;
  delivered_seq: number;
  failures: number;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}

const toWebhook = ({ secret: _secret, ...r }: Row): Webhook => ({
  ...r,
  events: JSON.parse(r.events) as WebhookEventType[],
  enabled: r.enabled === 1,
});

type DeliveryRow = Omit<WebhookDelivery, "succeeded"> & { seq: number; succeeded: number };

const toDelivery = ({ seq: _seq, ...r }: DeliveryRow): WebhookDelivery => ({ ...r, succeeded: r.succeeded === 1 });

const isForeignKeyViolation = (error: unknown) => (error as { code?: string }).code === "SQLITE_CONSTRAINT_FOREIGNKEY";

export class EmbeddedWebhookStore implements WebhookStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  async create(collectionId: string, input: NewWebhook): Promise<Webhook> {
    const at = this.stamp();
    try {
      const row = this.db
        .query<Row, [string, string, string, string, string | null, string, string]>(
          `INSERT INTO webhooks (id, collection_id, url, events, description, secret, delivered_seq, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce((SELECT seq FROM memory_change_heads WHERE collection_id = ?2), 0), ?7, ?7)
           RETURNING ${COLUMNS.replaceAll("w.", "")}`,
        )
        .get(crypto.randomUUID(), collectionId, input.url, JSON.stringify(input.events), input.description, input.secret, at);
      return toWebhook(row!);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new CollectionNotFoundError(collectionId);
      throw error;
    }
  }

  async list(collectionId: string): Promise<Webhook[]> {
    return this.db
      .query<Row, [string]>(`SELECT ${COLUMNS} FROM webhooks w WHERE w.collection_id = ? ORDER BY w.created_at, w.rowid`)
      .all(collectionId)
      .map(toWebhook);
  }

  async get(collectionId: string, webhookId: string): Promise<Webhook | null> {
    const found = this.row(collectionId, webhookId);
    return found && toWebhook(found);
  }

  async getWithSecret(collectionId: string, webhookId: string): Promise<WebhookWithSecret | null> {
    const found = this.row(collectionId, webhookId);
    return found && { ...toWebhook(found), secret: found.secret! };
  }

  private row(collectionId: string, webhookId: string): Row | null {
    return this.db
      .query<Row, [string, string]>(`SELECT ${COLUMNS}, w.secret FROM webhooks w WHERE w.collection_id = ? AND w.id = ?`)
      .get(collectionId, webhookId);
  }

  async update(collectionId: string, webhookId: string, patch: WebhookPatch): Promise<Webhook | null> {
    const enabled = patch.enabled === undefined ? null : patch.enabled ? 1 : 0;
    const row = this.db
      .query<Row, [string | null, string | null, number, string | null, string | null, number | null, string, string, string]>(
        `UPDATE webhooks SET
           url = coalesce(?1, url),
           events = coalesce(?2, events),
           description = CASE WHEN ?3 THEN ?4 ELSE description END,
           secret = coalesce(?5, secret),
           enabled = coalesce(?6, enabled),
           disabled_reason = CASE WHEN ?6 IS NULL THEN disabled_reason ELSE NULL END,
           failures = CASE WHEN ?6 = 1 THEN 0 ELSE failures END,
           next_attempt_at = CASE WHEN ?6 = 1 THEN NULL ELSE next_attempt_at END,
           updated_at = ?7
         WHERE collection_id = ?8 AND id = ?9
         RETURNING ${COLUMNS.replaceAll("w.", "")}`,
      )
      .get(
        patch.url ?? null,
        patch.events === undefined ? null : JSON.stringify(patch.events),
        patch.description !== undefined ? 1 : 0,
        patch.description ?? null,
        patch.secret ?? null,
        enabled,
        this.stamp(),
        collectionId,
        webhookId,
      );
    return row ? toWebhook(row) : null;
  }

  async delete(collectionId: string, webhookId: string): Promise<boolean> {
    return this.db.query(`DELETE FROM webhooks WHERE collection_id = ? AND id = ?`).run(collectionId, webhookId).changes > 0;
  }

  async claimDue(now: Date, leaseMs: number, limit: number): Promise<ClaimedWebhook[]> {
    const lease = crypto.randomUUID();
    const at = now.toISOString();
    const until = new Date(now.getTime() + Math.max(1, Math.trunc(leaseMs))).toISOString();
    // one write transaction: another process's claim waits for it (SQLite's writer lock)
    const rows = this.db.transaction(() => {
      const due = this.db
        .query<Row & { head_seq: number }, [string, number]>(
          `SELECT ${COLUMNS}, w.secret, h.seq AS head_seq FROM webhooks w JOIN memory_change_heads h ON h.collection_id = w.collection_id
           WHERE w.enabled = 1 AND h.seq > w.delivered_seq
             AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= ?1)
             AND (w.leased_until IS NULL OR w.leased_until <= ?1)
           ORDER BY w.next_attempt_at NULLS FIRST, w.rowid LIMIT ?2`,
        )
        .all(at, clampCount(limit, 1000));
      const take = this.db.query(`UPDATE webhooks SET lease = ?, leased_until = ? WHERE id = ?`);
      for (const row of due) take.run(lease, until, row.id);
      return due;
    }).immediate();
    return rows.map((row) => ({ webhook: { ...toWebhook(row), secret: row.secret! }, head_seq: row.head_seq, lease }));
  }

  async advance(webhookId: string, lease: string, deliveredSeq: number): Promise<boolean> {
    return (
      this.db
        .query(`UPDATE webhooks SET delivered_seq = max(delivered_seq, ?), failures = 0, next_attempt_at = NULL WHERE id = ? AND lease = ?`)
        .run(deliveredSeq, webhookId, lease).changes > 0
    );
  }

  async fail(webhookId: string, lease: string, outcome: { failures: number; nextAttemptAt: Date; disable: string | null }): Promise<boolean> {
    return (
      this.db
        .query(
          `UPDATE webhooks SET failures = ?1, next_attempt_at = ?2, lease = NULL, leased_until = NULL,
             enabled = CASE WHEN ?3 IS NULL THEN enabled ELSE 0 END, disabled_reason = coalesce(?3, disabled_reason)
           WHERE id = ?4 AND lease = ?5`,
        )
        .run(outcome.failures, outcome.nextAttemptAt.toISOString(), outcome.disable, webhookId, lease).changes > 0
    );
  }

  async release(webhookId: string, lease: string): Promise<void> {
    this.db.query(`UPDATE webhooks SET lease = NULL, leased_until = NULL WHERE id = ? AND lease = ?`).run(webhookId, lease);
  }

  async recordDelivery(d: NewWebhookDelivery): Promise<void> {
    try {
      this.db
        .query(
          `INSERT INTO webhook_deliveries (id, webhook_id, kind, at, first_seq, last_seq, event_count, attempt, status_code, succeeded, duration_ms, error)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(d.id, d.webhook_id, d.kind, d.at, d.first_seq, d.last_seq, d.event_count, d.attempt, d.status_code, d.succeeded ? 1 : 0, d.duration_ms, d.error);
    } catch (error) {
      if (isForeignKeyViolation(error)) return; // the webhook was deleted meanwhile
      throw error;
    }
  }

  async deliveries(collectionId: string, webhookId: string, opts: { limit: number; cursor?: string }): Promise<Page<WebhookDelivery>> {
    const before = opts.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, 1000));
    const rows = this.db
      .query<DeliveryRow, [string, string, number, number]>(
        `SELECT d.seq, d.id, d.webhook_id, d.kind, d.at, d.first_seq, d.last_seq, d.event_count, d.attempt, d.status_code,
           d.succeeded, d.duration_ms, d.error
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE w.collection_id = ? AND d.webhook_id = ? AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
      )
      .all(collectionId, webhookId, before, limit + 1);
    return pageOfRows(rows, limit, toDelivery, encodeCursor);
  }

  async pruneDeliveries(before: Date, limit: number): Promise<number> {
    return this.db
      .query(`DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE at < ? LIMIT ?)`)
      .run(before.toISOString(), clampCount(limit, 1_000_000)).changes;
  }
}
