import type { Database } from "bun:sqlite";
import type { IdempotencyClaim, IdempotencyStore, ClaimTimes } from "../../ports/idempotency-store.ts";

interface KeyRow {
  fingerprint: string;
  token: string | null;
  status: number | null;
  body: string | null;
  locked_until: number;
  expires_at: number;
}

/** Expired keys are deleted every this many claims (a bounded DELETE, off no request's critical data). */
const SWEEP_EVERY = 1000;

/**
 * Idempotency keys in the SQLite file (table `idempotency_keys`, migration 3): a claim is one
 * immediate transaction, so workers sharing the file never both claim a key.
 */
export class EmbeddedIdempotencyStore implements IdempotencyStore {
  private readonly claimTx;
  private readonly completeStmt;
  private readonly releaseStmt;
  private readonly sweepStmt;
  private readonly forgetStmt;
  private claims = 0;

  constructor(db: Database, private readonly now: () => number = Date.now) {
    const select = db.prepare<KeyRow, [string, string]>(
      "SELECT fingerprint, token, status, body, locked_until, expires_at FROM idempotency_keys WHERE scope = ? AND key = ?",
    );
    const put = db.prepare<null, [string, string, string, string, number, number]>(
      `INSERT OR REPLACE INTO idempotency_keys (scope, key, fingerprint, token, status, body, locked_until, expires_at)
       VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)`,
    );
    this.claimTx = db.transaction(
      (scope: string, key: string, fingerprint: string, retentionMs: number, lockMs: number): IdempotencyClaim => {
        const now = this.now();
        const row = select.get(scope, key);
        const stale = row === null || row.expires_at <= now || (row.status === null && row.locked_until <= now);
        if (stale) {
          const token = crypto.randomUUID();
          put.run(scope, key, fingerprint, token, now + lockMs, now + retentionMs);
          return { state: "claimed", token };
        }
        if (row.fingerprint !== fingerprint) return { state: "mismatch" };
        if (row.status === null || row.body === null) return { state: "in_progress" };
        return { state: "completed", status: row.status, body: row.body };
      },
    );
    this.completeStmt = db.prepare<null, [number, string, string, string, string]>(
      "UPDATE idempotency_keys SET status = ?, body = ?, token = NULL WHERE scope = ? AND key = ? AND token = ?",
    );
    this.releaseStmt = db.prepare<null, [string, string, string]>(
      "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND token = ?",
    );
    this.forgetStmt = db.prepare<null, [string, string]>(
      "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status IS NOT NULL",
    );
    this.sweepStmt = db.prepare<null, [number]>(
      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT 1000)",
    );
  }

  async claim(scope: string, key: string, fingerprint: string, opts: ClaimTimes): Promise<IdempotencyClaim> {
    if (++this.claims % SWEEP_EVERY === 0) this.sweepStmt.run(this.now());
    return this.claimTx.immediate(scope, key, fingerprint, opts.retentionSeconds * 1000, opts.lockSeconds * 1000);
  }

  async complete(scope: string, key: string, token: string, answer: { status: number; body: string }): Promise<void> {
    this.completeStmt.run(answer.status, answer.body, scope, key, token);
  }

  async release(scope: string, key: string, token: string): Promise<void> {
    this.releaseStmt.run(scope, key, token);
  }

  async forget(scope: string, key: string): Promise<void> {
    this.forgetStmt.run(scope, key);
  }
}
