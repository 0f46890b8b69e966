import type pg from "pg";
import type { Logger } from "../../log.ts";
import type { GraphFacts } from "../../domain/graph.ts";
import type { IndexedMemory, IndexWriter } from "../../ports/index-writer.ts";
import { decodeEmbedding } from "./embedding.ts";
import { describeError } from "./errors.ts";
import type { PgPool } from "./pool.ts";
import { isoSql, isUuid } from "./rows.ts";
import { Semaphore } from "../shared/semaphore.ts";
import { DependencyUnavailableError } from "../../domain/errors.ts";
import { deleteDelivered, purgeSettled } from "./settling.ts";
import { queueReindex, type ReindexOptions } from "./reindex.ts";

/** How often the dispatcher forgets memories that have settled (settling.ts). */
const SETTLED_PURGE_MS = 5_000;

/**
 * The transactional outbox: every write to `memories` / `collections` inserts, in the same
 * statement, one `outbox` row per IndexWriter (Milvus, Neo4j: derived indexes). This dispatcher
 * delivers them.
 *
 * Delivery sends a memory's CURRENT state (present → `writer.upsert`, gone → `writer.delete`),
 * never the state recorded at write time, so retries in any order converge. Rows are claimed
 * with `FOR UPDATE SKIP LOCKED` (several processes may dispatch), and each delivery holds, for
 * its whole transaction, a per-target advisory lock on each memory it sends (shared on its
 * collection, exclusive for a collection delete): two deliveries of one memory never overlap,
 * so an older state can never overwrite a newer one in the index. A delivered row is deleted; a
 * failed one gets `attempts + 1` and exponential backoff (base doubling, capped).
 *
 * Poison rows: a call that fails for a reason other than the writer being unavailable (a
 * DependencyUnavailableError) is split in halves and retried at once, down to single memories, so
 * one bad row never holds back the rest of its batch (or another tenant's rows). A row whose own
 * delivery failed `maxAttempts` times that way is dead-lettered (`dead_at` set, a warning logged,
 * the `outbox_dead_letters` gauge): no longer claimed, kept until `bun run outbox:replay` puts it
 * back. An unavailable writer never dead-letters anything; it is only backed off.
 *
 * A writer that fails is also backed off in memory: the loop probes it once per backoff period
 * (not once per due batch) and immediate deliveries skip it until a delivery succeeds.
 * Delivery transactions commit with `synchronous_commit = off`: a lost commit only means a
 * redelivery, which writers absorb.
 *
 * Read-your-writes: after a write commits, the store calls `deliverNow` with the write's rows,
 * which delivers them (waiting for any concurrent delivery of the same rows or memories)
 * bounded by `deliveryTimeoutMs`; a writer that is down or slow never fails or stalls a write
 * beyond that. At most half the pool delivers immediately at once. Deferred targets (whose
 * searches read the pending rows as a fresh tail) are not waited for: the write wakes the
 * dispatcher, whose next round delivers every row that came in meanwhile in one batch.
 *
 * Writers must bound their own calls (request timeouts): a delivery holds its connection and
 * locks until the writer answers, and `close()` waits for deliveries under way.
 */
export interface OutboxOptions {
  /** Bound on waiting for a write's immediate delivery (default 2000 ms). */
  deliveryTimeoutMs?: number;
  /** Rows one dispatcher round claims per target (default 500). */
  batchSize?: number;
  /** How often the dispatcher looks for due rows when idle (default 500 ms). */
  pollMs?: number;
  /** First retry delay; doubles per attempt (default 200 ms). */
  baseBackoffMs?: number;
  /** Cap on the retry delay (default 30 s). */
  maxBackoffMs?: number;
  /** Run the polling loop (default true). Immediate delivery and `drain` work either way. */
  dispatch?: boolean;
  /**
   * Targets a write does not wait for: their readers merge the pending rows themselves (a fresh
   * tail, fresh-tail.ts), so a write only wakes the dispatcher, which delivers them in batches.
   */
  deferredTargets?: readonly string[];
  /** Failed deliveries of a row (other than its writer being unavailable) before it is dead-lettered (default 10). */
  maxAttempts?: number;
  /**
   * Per deferred target: how long a delivered memory stays in the fresh tail after its writer
   * returned, for an index whose replicas may lag behind the one that confirmed it (settling.ts).
   */
  settleMs?: Readonly<Record<string, number>>;
}

export type OutboxOp = "upsert" | "delete" | "delete_collection";

interface ClaimedRow {
  id: string;
  target: string;
  op: OutboxOp;
  collection_id: string;
  memory_id: string | null;
  collection_key: string;
  memory_key: string;
}

interface StateRow {
  collection_id: string;
  id: string;
  content: string;
  metadata: IndexedMemory["metadata"];
  embedding: Buffer;
  created_at: string;
  /** The memory's graph facts (a MemoryGraph: the client-supplied part is not forwarded). */
  graph: GraphFacts | null;
}

/** Outbox rows delivered or failed together: one memory (or collection) and its item for the writer. */
interface Unit<T> {
  rows: string[];
  item: T;
}

/** Rows whose delivery failed; `counted` unless the writer was unavailable (only those count toward dead-lettering). */
interface Failure {
  ids: string[];
  error: string;
  counted: boolean;
}

export interface RoundResult {
  claimed: number;
  delivered: number;
  failed: number;
  /** Claimed but left for later: another delivery held one of its memories. */
  skipped: number;
}

/**
 * A delivery transaction only deletes or reschedules outbox rows: if a crash loses its commit,
 * the rows are delivered again (writers are idempotent). So it skips the WAL flush wait.
 */
const DELIVERY_SETTINGS = { synchronous_commit: "off" } as const;

const EMPTY_ROUND: RoundResult = { claimed: 0, delivered: 0, failed: 0, skipped: 0 };

const CLAIM_COLUMNS = `id::text AS id, target, op, collection_id::text AS collection_id, memory_id,
  hashtextextended(target || '/' || collection_id::text, 0)::text AS collection_key,
  hashtextextended(target || '/' || collection_id::text || '/' || coalesce(memory_id, ''), 0)::text AS memory_key`;

/** The SQL of a data-modifying CTE body that queues one row per target for each written row. */
export function queueSql(op: OutboxOp, from: string, targetsParam: string): string {
  return `INSERT INTO outbox (target, op, collection_id, memory_id)
    SELECT t.target, '${op}', w.collection_id::uuid, w.id FROM ${from} AS w CROSS JOIN unnest(${targetsParam}::text[]) AS t(target)
    RETURNING id`;
}

/** Dead letters: a row whose own delivery kept failing is set aside (migration 11). */
export const DEAD_LETTER_MIGRATION = `
  ALTER TABLE outbox ADD COLUMN IF NOT EXISTS failures integer NOT NULL DEFAULT 0;
  ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dead_at timestamptz;
  CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (target, collection_id) WHERE dead_at IS NOT NULL;
`;

/**
 * Puts dead-lettered rows back in the queue (all, or one target's, or one collection's), due now
 * with their counts reset; returns how many. Any running dispatcher picks them up.
 */
export async function replayDeadLetters(pool: Pick<PgPool, "query">, filter: { target?: string; collectionId?: string } = {}): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `WITH replayed AS (
       UPDATE outbox SET dead_at = NULL, failures = 0, attempts = 0, next_attempt_at = now(), last_error = NULL
       WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR target = $1) AND ($2::uuid IS NULL OR collection_id = $2::uuid)
       RETURNING 1)
     SELECT count(*)::int AS n FROM replayed`,
    [filter.target ?? null, filter.collectionId ?? null],
  );
  return rows[0]!.n;
}

export class Outbox {
  readonly targets: readonly string[];
  private readonly writers: ReadonlyMap<string, IndexWriter>;
  private readonly deliveryTimeoutMs: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** Per target: consecutive failures and until when immediate delivery skips it. */
  private readonly failing = new Map<string, { failures: number; skipUntil: number }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly slots: Semaphore;
  private readonly deferred: ReadonlySet<string>;
  private readonly maxAttempts: number;
  private readonly settling: ReadonlyMap<string, number>;
  private lastSettledPurge = 0;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private databaseDown = false;

  constructor(
    private readonly pool: PgPool,
    writers: readonly IndexWriter[],
    private readonly log: Logger,
    options: OutboxOptions = {},
  ) {
    const byName = new Map<string, IndexWriter>();
    for (const w of writers) {
      if (byName.has(w.name)) throw new Error(`two index writers are named "${w.name}"`);
      byName.set(w.name, w);
    }
    this.writers = byName;
    this.targets = [...byName.keys()];
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 2000;
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 500;
    this.baseBackoffMs = options.baseBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.slots = new Semaphore(Math.max(1, Math.floor(pool.size / 2)));
    this.deferred = new Set(options.deferredTargets ?? []);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 10);
    for (const target of this.deferred) {
      if (!byName.has(target)) throw new Error(`deferred target "${target}" is not one of the index writers (${this.targets.join(", ")})`);
    }
    const settling = new Map<string, number>();
    for (const [target, ms] of Object.entries(options.settleMs ?? {})) {
      if (!this.deferred.has(target)) throw new Error(`settling target "${target}" is not a deferred target: only a fresh tail can hold its memories`);
      if (!(ms >= 0)) throw new RangeError(`settleMs for "${target}" must be >= 0, got ${ms}`);
      if (ms > 0) settling.set(target, ms);
    }
    this.settling = settling;
    if (options.dispatch !== false && this.targets.length > 0) this.loopDone = this.loop();
  }

  /** Runs a dispatcher round now instead of at the next poll, probing failing writers too. */
  kick(): void {
    for (const state of this.failing.values()) state.skipUntil = 0;
    this.wakeLoop();
  }

  private wakeLoop(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Delivers these rows (ids returned by a write) now, for read-your-writes. Resolves once
   * they are delivered, or failed, or after `deliveryTimeoutMs`; never throws. Rows it cannot
   * deliver stay in the outbox for the dispatcher.
   */
  async deliverNow(rowIds: readonly string[]): Promise<void> {
    if (rowIds.length === 0 || this.stopped) return;
    if (this.deferred.size > 0) this.wakeLoop();
    await this.deliverRows(rowIds, this.targets.filter((t) => !this.deferred.has(t)));
  }

  /**
   * Delivers `target`'s undelivered rows of one collection now (a deferred target's reader that
   * needs every acknowledged write: graph reads, settled-graph-store.ts), bounded by
   * `deliveryTimeoutMs` like an immediate delivery; never throws. Waits for a delivery of the
   * same rows already under way. A target whose writer is failing is skipped (its reads fail too).
   */
  async deliverPending(target: string, collectionId: string): Promise<void> {
    if (this.stopped || !this.writers.has(target) || !isUuid(collectionId)) return;
    const deadline = Date.now() + this.deliveryTimeoutMs;
    let after = "0";
    // a batch at a time, up to the bound: a backlog larger than one batch (after an outage) is
    // delivered as far as the bound allows, the rest by the dispatcher
    while (Date.now() < deadline) {
      // a writer being backed off is not called (its reads fail or answer as they can)
      if ((this.failing.get(target)?.skipUntil ?? 0) > Date.now()) return;
      const { rows } = await this.pool.query<{ id: string }>(
        {
          name: "outbox.pending-of-collection",
          text: `SELECT id::text AS id FROM outbox
                 WHERE target = $1 AND collection_id = $2::uuid AND dead_at IS NULL AND id > $3::bigint ORDER BY id LIMIT $4`,
        },
        [target, collectionId, after, this.batchSize],
      );
      if (rows.length === 0) return;
      await this.deliverRows(rows.map((r) => r.id), [target]);
      if (rows.length < this.batchSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  private async deliverRows(rowIds: readonly string[], wanted: readonly string[]): Promise<void> {
    const now = Date.now();
    const targets = wanted.filter((t) => (this.failing.get(t)?.skipUntil ?? 0) <= now);
    if (targets.length === 0) return;
    // At most half the pool delivers at once, so slow writers cannot starve the writes of
    // connections; a write that finds no slot within its bound leaves delivery to the dispatcher.
    const deadline = now + this.deliveryTimeoutMs;
    if (!(await this.slots.acquire(this.deliveryTimeoutMs))) {
      this.wakeLoop();
      return;
    }
    const settled = new Set<string>();
    const work = this.pool
      .transaction(async (client) => {
        const { rows } = await client.query<ClaimedRow>(
          `SELECT ${CLAIM_COLUMNS} FROM outbox WHERE id = ANY ($1::bigint[]) AND target = ANY ($2::text[]) AND dead_at IS NULL
           ORDER BY id FOR UPDATE`,
          [rowIds, targets],
        );
        return this.deliverClaimed(client, rows, true, settled);
      }, { ...DELIVERY_SETTINGS, lock_timeout: `${Math.max(1, Math.trunc(this.deliveryTimeoutMs))}ms` })
      .catch((error: unknown) => {
        this.log.debug("outbox immediate delivery did not complete", { error: describeError(error) });
      })
      .finally(() => this.slots.release());
    this.track(work);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      work.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Too slow to wait for: later writes skip these targets until a delivery succeeds.
      for (const target of targets) if (!settled.has(target)) this.markFailed(target, "delivery timed out", false);
    }
  }

  /** Dead-lettered rows per target (every configured target is present, 0 when none). */
  deadLetters(): Promise<Record<string, number>> {
    return this.countByTarget(true);
  }

  /** Puts dead-lettered rows back in the queue and wakes the dispatcher; returns how many. */
  async replay(filter: { target?: string; collectionId?: string } = {}): Promise<number> {
    const n = await replayDeadLetters(this.pool, filter);
    if (n > 0) this.kick();
    return n;
  }

  /** Queues every memory again for `target` (reindex.ts): rebuilds an index that lost its data. */
  async reindex(target: string, options: ReindexOptions = {}): Promise<number> {
    if (!this.writers.has(target)) throw new Error(`no index writer is named "${target}" (${this.targets.join(", ")})`);
    const n = await queueReindex(this.pool, target, options);
    if (n > 0) this.kick();
    return n;
  }

  /** Rows waiting per target, dead letters aside (every configured target is present, 0 when none). */
  backlog(): Promise<Record<string, number>> {
    return this.countByTarget(false);
  }

  private async countByTarget(dead: boolean): Promise<Record<string, number>> {
    const result: Record<string, number> = Object.fromEntries(this.targets.map((t) => [t, 0]));
    const { rows } = await this.pool.query<{ target: string; n: number }>(
      "SELECT target, count(*)::int AS n FROM outbox WHERE (dead_at IS NOT NULL) = $1 GROUP BY target",
      [dead],
    );
    for (const row of rows) result[row.target] = row.n;
    return result;
  }

  /**
   * Delivers until no row of a configured target is left, ignoring backoff (for tests and
   * shutdown). True when the outbox emptied, false when `timeoutMs` passed first.
   */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    if (this.targets.length === 0) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE target = ANY ($1::text[]) AND dead_at IS NULL",
        [this.targets],
      );
      if (rows[0]!.n === 0) return true;
      if (Date.now() >= deadline) return false;
      let delivered = 0;
      for (const target of this.targets) {
        try {
          delivered += (await this.round(target, true)).delivered;
        } catch (error) {
          this.log.debug("outbox drain round failed", { target, error: describeError(error) });
        }
      }
      if (delivered === 0) await Bun.sleep(20);
    }
  }

  /** Stops the loop and waits for deliveries under way; the pool stays open. Idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wakeLoop();
    await this.loopDone;
    await Promise.allSettled([...this.inflight]);
  }

  /** One claim-and-deliver transaction for `target`: due rows, or all of them when `force`. */
  async round(target: string, force = false): Promise<RoundResult> {
    return this.pool.transaction(async (client) => {
      const { rows } = await client.query<ClaimedRow>(
        `SELECT ${CLAIM_COLUMNS} FROM outbox
         WHERE target = $1 AND ($2::boolean OR next_attempt_at <= now()) AND dead_at IS NULL
         ORDER BY next_attempt_at, id
         LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [target, force, this.batchSize],
      );
      if (rows.length === 0) return EMPTY_ROUND;
      return this.deliverClaimed(client, rows, false);
    }, DELIVERY_SETTINGS);
  }

  private track(promise: Promise<unknown>): void {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let again = false;
      let pause = this.pollMs;
      try {
        for (const target of this.targets) {
          if (this.stopped) break;
          // A failing writer is probed once per backoff period, not once per due batch.
          if ((this.failing.get(target)?.skipUntil ?? 0) > Date.now()) continue;
          const result = await this.round(target);
          if (result.claimed === this.batchSize && result.delivered > 0) again = true;
          if (result.skipped > 0) pause = Math.min(pause, 25);
        }
        await this.purgeSettledNowAndThen();
        if (this.databaseDown) {
          this.databaseDown = false;
          this.log.info("outbox dispatcher reconnected to postgres");
        }
      } catch (error) {
        if (!this.databaseDown) {
          this.databaseDown = true;
          this.log.warn("outbox dispatcher cannot reach postgres; retrying", { error: describeError(error) });
        }
      }
      if (!again && !this.stopped) await this.pause(pause);
    }
  }

  private async purgeSettledNowAndThen(): Promise<void> {
    if (this.settling.size === 0 || Date.now() - this.lastSettledPurge < SETTLED_PURGE_MS) return;
    this.lastSettledPurge = Date.now();
    await purgeSettled(this.pool);
  }

  private pause(ms: number): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = () => {
        this.kicked = false;
        finish();
      };
    });
  }

  /** Takes the advisory locks `rows` need; returns the rows whose locks are all held. */
  private async lock(client: pg.PoolClient, rows: ClaimedRow[], blocking: boolean): Promise<ClaimedRow[]> {
    // Per key: exclusive when any row needs it exclusively. Taken in key order (no deadlock
    // between blocking deliveries); a session's own locks never conflict with each other.
    const exclusive = new Map<string, boolean>();
    const need = (key: string, excl: boolean) => exclusive.set(key, (exclusive.get(key) ?? false) || excl);
    for (const row of rows) {
      if (row.op === "delete_collection") {
        need(row.collection_key, true);
      } else {
        need(row.collection_key, false);
        need(row.memory_key, true);
      }
    }
    const keys = [...exclusive.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    const modes = keys.map((k) => exclusive.get(k)!);
    if (blocking) {
      await client.query(
        `SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(k) ELSE pg_advisory_xact_lock_shared(k) END)
         FROM unnest($1::bigint[], $2::boolean[]) AS t(k, x)`,
        [keys, modes],
      );
      return rows;
    }
    const { rows: got } = await client.query<{ k: string; ok: boolean }>(
      `SELECT k::text AS k, CASE WHEN x THEN pg_try_advisory_xact_lock(k) ELSE pg_try_advisory_xact_lock_shared(k) END AS ok
       FROM unnest($1::bigint[], $2::boolean[]) AS t(k, x)`,
      [keys, modes],
    );
    const held = new Set(got.filter((g) => g.ok).map((g) => g.k));
    return rows.filter(
      (row) => held.has(row.collection_key) && (row.op === "delete_collection" || held.has(row.memory_key)),
    );
  }

  /**
   * Delivers claimed rows inside the claiming transaction: locks, loads current state once for
   * all targets, calls each target's writer (targets in parallel), then deletes the delivered
   * rows and reschedules the failed ones. `settled` collects the targets that finished.
   */
  private async deliverClaimed(
    client: pg.PoolClient,
    claimed: ClaimedRow[],
    blocking: boolean,
    settled?: Set<string>,
  ): Promise<RoundResult> {
    const known = claimed.filter((r) => this.writers.has(r.target));
    if (known.length === 0) return { ...EMPTY_ROUND, claimed: claimed.length };
    const rows = await this.lock(client, known, blocking);
    const skipped = claimed.length - rows.length;

    // Current state of every memory concerned, one query for all targets.
    const memoryKeys = new Map<string, { c: string; m: string }>();
    for (const row of rows) {
      if (row.memory_id !== null) memoryKeys.set(`${row.collection_id}/${row.memory_id}`, { c: row.collection_id, m: row.memory_id });
    }
    const state = new Map<string, IndexedMemory>();
    if (memoryKeys.size > 0) {
      const keys = [...memoryKeys.values()];
      const { rows: found } = await client.query<StateRow>(
        `SELECT m.collection_id::text AS collection_id, m.id, m.content, m.metadata, m.embedding,
                ${isoSql("m.created_at")} AS created_at, m.graph
         FROM unnest($1::uuid[], $2::text[]) AS k(c, i)
         JOIN memories AS m ON m.collection_id = k.c AND m.id = k.i`,
        [keys.map((k) => k.c), keys.map((k) => k.m)],
      );
      for (const r of found) {
        state.set(`${r.collection_id}/${r.id}`, {
          collection_id: r.collection_id,
          id: r.id,
          content: r.content,
          metadata: r.metadata,
          embedding: decodeEmbedding(r.embedding),
          created_at: r.created_at,
          graph: r.graph === null ? null : { entities: r.graph.entities, relations: r.graph.relations },
        });
      }
    }

    const byTarget = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const list = byTarget.get(row.target);
      if (list === undefined) byTarget.set(row.target, [row]);
      else list.push(row);
    }

    const done: string[] = [];
    const failures: Failure[] = [];
    await Promise.all(
      [...byTarget].map(async ([target, targetRows]) => {
        const outcome = await this.deliverTarget(this.writers.get(target)!, targetRows, state);
        done.push(...outcome.done);
        failures.push(...outcome.failed);
        // only an unavailable writer is backed off as a whole; a poison row fails alone
        const down = outcome.failed.find((f) => !f.counted);
        if (down === undefined) this.markDelivered(target);
        else this.markFailed(target, down.error, true);
        settled?.add(target);
      }),
    );

    if (done.length > 0) await deleteDelivered(client, done, this.settling);
    const failedIds = failures.flatMap((f) => f.ids);
    if (failedIds.length > 0) {
      const { rows: updated } = await client.query<{ target: string; collection_id: string; memory_id: string | null; failures: number; last_error: string; dead: boolean }>(
        `UPDATE outbox AS o
         SET attempts = o.attempts + 1,
             failures = o.failures + CASE WHEN f.counted THEN 1 ELSE 0 END,
             dead_at = CASE WHEN f.counted AND o.failures + 1 >= $5 THEN now() END,
             next_attempt_at = now() + least($3::float8, $4::float8 * power(2, least(o.attempts, 30))) * interval '1 millisecond',
             last_error = f.error
         FROM unnest($1::bigint[], $2::text[], $6::boolean[]) AS f(id, error, counted)
         WHERE o.id = f.id
         RETURNING o.target, o.collection_id::text AS collection_id, o.memory_id, o.failures, o.last_error, o.dead_at IS NOT NULL AS dead`,
        [
          failedIds,
          failures.flatMap((f) => f.ids.map(() => f.error)),
          this.maxBackoffMs,
          this.baseBackoffMs,
          this.maxAttempts,
          failures.flatMap((f) => f.ids.map(() => f.counted)),
        ],
      );
      for (const row of updated) {
        if (!row.dead) continue;
        this.log.warn("outbox row dead-lettered: its delivery kept failing; fix the cause, then `bun run outbox:replay`", {
          target: row.target,
          collection_id: row.collection_id,
          memory_id: row.memory_id,
          failures: row.failures,
          error: row.last_error,
        });
      }
    }
    return { claimed: claimed.length, delivered: done.length, failed: failedIds.length, skipped };
  }

  /** One target's rows: upserts of present memories, deletes of gone ones, collection deletes. */
  private async deliverTarget(
    writer: IndexWriter,
    rows: ClaimedRow[],
    state: ReadonlyMap<string, IndexedMemory>,
  ): Promise<{ done: string[]; failed: Failure[] }> {
    // one unit per memory (several rows of one memory are delivered, or fail, together)
    const upserts = new Map<string, Unit<IndexedMemory>>();
    const deletes = new Map<string, Map<string, Unit<string>>>();
    const collections = new Map<string, string[]>();
    for (const row of rows) {
      if (row.op === "delete_collection" || row.memory_id === null) {
        const list = collections.get(row.collection_id) ?? [];
        list.push(row.id);
        collections.set(row.collection_id, list);
        continue;
      }
      const key = `${row.collection_id}/${row.memory_id}`;
      const current = state.get(key);
      if (current !== undefined) {
        const unit = upserts.get(key) ?? { rows: [], item: current };
        unit.rows.push(row.id);
        upserts.set(key, unit);
      } else {
        const group = deletes.get(row.collection_id) ?? new Map<string, Unit<string>>();
        const unit = group.get(row.memory_id) ?? { rows: [], item: row.memory_id };
        unit.rows.push(row.id);
        group.set(row.memory_id, unit);
        deletes.set(row.collection_id, group);
      }
    }

    const outcome = { done: [] as string[], failed: [] as Failure[] };
    if (upserts.size > 0) await this.attempt([...upserts.values()], (items) => writer.upsert(items), outcome);
    for (const [collectionId, group] of deletes) {
      await this.attempt([...group.values()], (ids) => writer.delete(collectionId, ids), outcome);
    }
    for (const [collectionId, ids] of collections) {
      await this.attempt([{ rows: ids, item: collectionId }], () => writer.deleteCollection(collectionId), outcome);
    }
    return outcome;
  }

  /**
   * Calls the writer with the units' items. A failure other than the writer being unavailable
   * splits the units in halves, each tried at once, so the rows that can be delivered are and
   * only the bad ones fail (at most 2n calls for n units, log₂ n deep).
   */
  private async attempt<T>(units: Unit<T>[], call: (items: T[]) => Promise<void>, outcome: { done: string[]; failed: Failure[] }): Promise<void> {
    try {
      await call(units.map((u) => u.item));
      for (const u of units) outcome.done.push(...u.rows);
    } catch (error) {
      const unavailable = error instanceof DependencyUnavailableError;
      if (!unavailable && units.length > 1) {
        const half = Math.ceil(units.length / 2);
        await this.attempt(units.slice(0, half), call, outcome);
        await this.attempt(units.slice(half), call, outcome);
        return;
      }
      outcome.failed.push({ ids: units.flatMap((u) => u.rows), error: describeError(error), counted: !unavailable });
    }
  }

  private markDelivered(target: string): void {
    if (this.failing.delete(target)) this.log.info("index writer delivering again", { target });
  }

  private markFailed(target: string, error: string, counted: boolean): void {
    const previous = this.failing.get(target);
    const failures = (previous?.failures ?? 0) + 1;
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(failures - 1, 30));
    this.failing.set(target, { failures, skipUntil: Date.now() + delay });
    if (previous === undefined) {
      this.log.warn(counted ? "index writer failing; outbox will retry" : "index writer slow; outbox will retry", {
        target,
        error,
      });
    } else {
      this.log.debug("index writer still failing", { target, failures, error });
    }
  }
}
