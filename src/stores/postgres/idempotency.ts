import type { IdempotencyClaim, IdempotencyStore, ClaimTimes } from "../../ports/idempotency-store.ts";
import type { PgPool } from "./pool.ts";

interface KeyRow {
  claimed: boolean;
  fingerprint: string;
  status: number | null;
  body: string | null;
}

const SWEEP_EVERY = 1000;

/**
 * Idempotency keys in PostgreSQL (table `idempotency_keys`, migration 3), next to the writes
 * they protect. A claim is one statement: insert the key, or take over an expired key or a
 * claim whose worker died; otherwise the row as it is says who holds it.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private claims = 0;

  constructor(private readonly pool: PgPool) {}

  async claim(scope: string, key: string, fingerprint: string, opts: ClaimTimes): Promise<IdempotencyClaim> {
    if (++this.claims % SWEEP_EVERY === 0) {
      await this.pool.query(
        `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT 1000)`,
      );
    }
    const token = crypto.randomUUID();
    // The upsert takes the row lock; xmax = 0 tells an insert or takeover (the token is ours)
    // from a row left as it was (the WHERE failed: DO UPDATE ... WHERE returns nothing then),
    // which the second branch reads under the same snapshot.
    const { rows } = await this.pool.query<KeyRow & Record<string, unknown>>(
      {
        name: "idempotency.claim",
        text: `WITH claimed AS (
                 INSERT INTO idempotency_keys AS k (scope, key, fingerprint, token, locked_until, expires_at)
                 VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), now() + make_interval(secs => $6))
                 ON CONFLICT (scope, key) DO UPDATE
                   SET fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, status = NULL, body = NULL,
                       locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at
                   WHERE k.expires_at <= now() OR (k.status IS NULL AND k.locked_until <= now())
                 RETURNING true AS claimed, fingerprint, status, body
               )
               SELECT claimed, fingerprint, status, body FROM claimed
               UNION ALL
               SELECT false, fingerprint, status, body FROM idempotency_keys
               WHERE scope = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM claimed)`,
      },
      [scope, key, fingerprint, token, opts.lockSeconds, opts.retentionSeconds],
    );
    const row = rows[0];
    // Neither inserted nor found: the row was released between the two reads; claim again.
    if (row === undefined) return this.claim(scope, key, fingerprint, opts);
    if (row.claimed) return { state: "claimed", token };
    if (row.fingerprint !== fingerprint) return { state: "mismatch" };
    if (row.status === null || row.body === null) return { state: "in_progress" };
    return { state: "completed", status: row.status, body: row.body };
  }

  async complete(scope: string, key: string, token: string, answer: { status: number; body: string }): Promise<void> {
    await this.pool.query(
      { name: "idempotency.complete", text: "UPDATE idempotency_keys SET status = $1, body = $2, token = NULL WHERE scope = $3 AND key = $4 AND token = $5" },
      [answer.status, answer.body, scope, key, token],
    );
  }

  async release(scope: string, key: string, token: string): Promise<void> {
    await this.pool.query(
      { name: "idempotency.release", text: "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND token = $3" },
      [scope, key, token],
    );
  }

  async forget(scope: string, key: string): Promise<void> {
    await this.pool.query(
      { name: "idempotency.forget", text: "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NOT NULL" },
      [scope, key],
    );
  }
}
