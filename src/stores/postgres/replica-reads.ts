import type pg from "pg";
import type { Logger } from "../../log.ts";
import { describeError } from "./errors.ts";
import type { PgPool, Row, Sql } from "./pool.ts";

/** Where a read of one collection ran. */
export type ReadTarget = "replica" | "primary";

/**
 * Why it ran there:
 * - `caught_up`: the replica had replayed every acknowledged write of the collection;
 * - `no_replica`: none is configured;
 * - `behind`: the replica had not replayed the collection's last committed write yet;
 * - `unavailable`: the replica failed (unreachable, refused, query cancelled), or is resting
 *   after a failure;
 * - `no_head`: the collection has no change-log head on the primary (never written, or gone).
 */
export type ReadReason = "caught_up" | "no_replica" | "behind" | "unavailable" | "no_head";

export interface ReadCount {
  target: ReadTarget;
  reason: ReadReason;
  count: number;
}

export interface RoutedReadOptions {
  /**
   * The collection's head (`memory_change_heads.seq`), read on the primary after every write
   * this read must see (a search reads it before computing): used instead of reading it again.
   * Absent: read here.
   */
  primaryHead?: bigint;
}

/** Reads of one collection that may run on a replica when that cannot lose the reader's writes. */
export interface CollectionReads {
  query<R extends Row = Row>(collectionId: string, sql: Sql, values?: unknown[], options?: RoutedReadOptions): Promise<pg.QueryResult<R>>;
}

export interface ReplicaReadsOptions {
  /** How long a replica that failed is left alone (its reads go to the primary); default 5 s. */
  restMs?: number;
  /** Least time between two warnings about one replica; default 5 s. */
  warnEveryMs?: number;
  /** A replica whose head lookup takes longer is treated as failed (a hung server); default 1 s. */
  headTimeoutMs?: number;
  now?: () => number;
}

interface Replica {
  pool: PgPool;
  /** host:port, for logs (never the password) */
  label: string;
  restingUntil: number;
  warnedAt: number;
}

const HEAD = { name: "replica-reads.head", text: "SELECT seq::text AS seq FROM memory_change_heads WHERE collection_id = $1" };

async function headOf(pool: PgPool, collectionId: string): Promise<bigint | null> {
  const { rows } = await pool.query<{ seq: string }>(HEAD, [collectionId]);
  return rows[0] === undefined ? null : BigInt(rows[0].seq);
}

function label(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}`;
  } catch {
    return "replica";
  }
}

/**
 * Routes reads that tolerate lag (hydrate, keyword search, list) to a hot standby only when it
 * holds every acknowledged write of the collection read; otherwise to the primary.
 *
 * Every write of a collection advances the collection's change-log head (`memory_change_heads`)
 * in its own transaction, and the writers of one collection commit one after the other while
 * holding that row (change-log.ts). So the head read on the primary after a write was
 * acknowledged is at least that write's; a replica whose head row is at least as far has
 * replayed that commit and, commits of the collection being ordered in the WAL, every earlier
 * one. Replay only moves forward, and each statement on the standby takes a fresh snapshot,
 * so the read that follows on the same replica sees at least as much. Both heads are primary
 * keys looked up side by side; the read itself then runs on the replica. Whatever worker did
 * the write, the primary's head has it: the guarantee holds across workers with no shared state.
 * A caller that has itself read the primary's head after the writes it must see (a search, for
 * its roll-forward position) passes it as `primaryHead`, and only the replica's head is read:
 * the same guarantee, one lookup fewer. Never a cached head: it could predate an acknowledged
 * write of another worker.
 *
 * A replica that fails is left alone for `restMs` (its reads go to the primary, counted as
 * `unavailable`), with a warning at most every `warnEveryMs`; the client never sees its error.
 */
export class ReplicaReads implements CollectionReads {
  private readonly replicas: Replica[];
  private readonly counts = new Map<string, ReadCount>();
  private readonly restMs: number;
  private readonly warnEveryMs: number;
  private readonly headTimeoutMs: number;
  private readonly now: () => number;
  private turn = 0;

  constructor(
    private readonly primary: PgPool,
    replicas: { url: string; pool: PgPool }[],
    private readonly log: Logger,
    options: ReplicaReadsOptions = {},
  ) {
    this.replicas = replicas.map((r) => ({ pool: r.pool, label: label(r.url), restingUntil: 0, warnedAt: -Infinity }));
    this.restMs = options.restMs ?? 5000;
    this.warnEveryMs = options.warnEveryMs ?? 5000;
    this.headTimeoutMs = options.headTimeoutMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  async query<R extends Row = Row>(collectionId: string, sql: Sql, values?: unknown[], options: RoutedReadOptions = {}): Promise<pg.QueryResult<R>> {
    if (this.replicas.length === 0) return this.onPrimary("no_replica", sql, values);
    const replica = this.pick();
    if (replica === null) return this.onPrimary("unavailable", sql, values);
    // side by side: a replica error is caught here, a primary error fails the read as before
    const replicaHead = this.replicaHead(replica, collectionId).catch((error: unknown) => this.failed(replica, error));
    const primaryHead = options.primaryHead ?? (await headOf(this.primary, collectionId));
    const replayed = await replicaHead;
    if (replayed === undefined) return this.onPrimary("unavailable", sql, values);
    if (primaryHead === null) return this.onPrimary("no_head", sql, values);
    if (replayed === null || replayed < primaryHead) return this.onPrimary("behind", sql, values);
    let result: pg.QueryResult<R>;
    try {
      result = await replica.pool.query<R>(sql, values);
    } catch (error) {
      this.failed(replica, error);
      return this.onPrimary("unavailable", sql, values);
    }
    this.count("replica", "caught_up");
    return result;
  }

  /** Reads so far by target and reason (metrics read it at scrape time). */
  stats(): ReadCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** Closes the replicas' pools (not the primary's). */
  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.pool.close()));
  }

  /** The replica's head, or a rejection when it does not answer within headTimeoutMs. */
  private async replicaHead(replica: Replica, collectionId: string): Promise<bigint | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.headTimeoutMs} ms`)), this.headTimeoutMs);
    });
    try {
      return await Promise.race([headOf(replica.pool, collectionId), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next replica in turn that is not resting; null when all are. */
  private pick(): Replica | null {
    const now = this.now();
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.turn + i) % this.replicas.length]!;
      if (replica.restingUntil <= now) {
        this.turn = (this.turn + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return null;
  }

  private failed(replica: Replica, error: unknown): undefined {
    const now = this.now();
    replica.restingUntil = now + this.restMs;
    if (now - replica.warnedAt >= this.warnEveryMs) {
      replica.warnedAt = now;
      this.log.warn("postgres replica failed; its reads go to the primary for a while", {
        replica: replica.label,
        rest_ms: this.restMs,
        error: describeError(error instanceof Error && error.cause !== undefined ? error.cause : error),
      });
    }
    return undefined;
  }

  private onPrimary<R extends Row>(reason: ReadReason, sql: Sql, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.count("primary", reason);
    return this.primary.query<R>(sql, values);
  }

  private count(target: ReadTarget, reason: ReadReason): void {
    const key = `${target}/${reason}`;
    const known = this.counts.get(key);
    if (known === undefined) this.counts.set(key, { target, reason, count: 1 });
    else known.count++;
  }
}
