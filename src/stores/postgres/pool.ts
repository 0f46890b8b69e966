import pg from "pg";
import type { Logger } from "../../log.ts";
import { describeError, isConnectionBroken, isRetryable, translateError } from "./errors.ts";

export interface PgPoolOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections this process opens (default 50). */
  poolSize?: number;
  /** How long acquiring a connection may take before the request fails with a 503 (default 2000 ms). */
  connectionTimeoutMs?: number;
  /** Server-side bound on every statement (default 30 s). */
  statementTimeoutMs?: number;
  /** How long an unused connection stays open (default 5 min, so a warmed pool stays warm). */
  idleTimeoutMs?: number;
  /** The schema every table lives in (default `public`); tests use one of their own. */
  schema?: string;
  log: Logger;
}

export type Row = Record<string, unknown>;
export type Sql = string | pg.QueryConfig;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_ATTEMPTS = 3;

/**
 * The process's connection pool. Every query goes through `query` / `transaction`, which turn
 * connection-level failures (refused, reset, pool timeout, admin shutdown, 08xxx) into
 * `DependencyUnavailableError("postgres")` and re-run a single statement that lost a deadlock.
 */
export class PgPool {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly size: number;
  private readonly log: Logger;
  private closed = false;

  constructor(options: PgPoolOptions) {
    this.schema = options.schema ?? "public";
    if (!SCHEMA_NAME.test(this.schema)) {
      throw new RangeError(`schema must be a lower-case SQL identifier, got "${this.schema}"`);
    }
    this.size = options.poolSize ?? 50;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`poolSize must be a positive integer`);
    this.log = options.log;
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: this.size,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 2000,
      idleTimeoutMillis: options.idleTimeoutMs ?? 300_000,
      keepAlive: true,
      statement_timeout: statementTimeout,
      // A transaction left open (a stuck process) must not hold row locks forever.
      idle_in_transaction_session_timeout: Math.max(statementTimeout * 4, 60_000),
      // The URL's ?application_name= wins (tests tag their connections with it).
      fallback_application_name: "memory-api",
      options: `-c search_path=${this.schema}`,
    });
    // An idle connection that the server closes (restart, admin shutdown) emits here; without a
    // listener that would crash the process. The pool drops it and opens a new one when needed.
    this.pool.on("error", (error) => {
      this.log.warn("postgres idle connection lost", { error: describeError(error) });
    });
  }

  /** Runs one statement (atomic on its own); a deadlock or serialization failure re-runs it. */
  async query<R extends Row = Row>(sql: Sql, values?: unknown[]): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return typeof sql === "string"
          ? await this.pool.query<R>(sql, values)
          : await this.pool.query<R>({ ...sql, values: values ?? sql.values } as pg.QueryConfig);
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && isRetryable(error)) continue;
        throw translateError(error);
      }
    }
  }

  /** A dedicated connection for `fn`, released afterwards (destroyed if `fn` broke it). */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translateError(error);
    }
    let broken: Error | undefined;
    // A checked-out connection that the server closes (PostgreSQL stopped mid-query) emits
    // 'error' on the client; unheard, that event would crash the process. The query in flight
    // fails on its own; the connection is destroyed on release.
    const onError = (error: Error) => {
      broken = error;
      this.log.warn("postgres connection lost while in use", { error: describeError(error) });
    };
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (error) {
      if (isConnectionBroken(error)) broken = error as Error;
      throw translateError(error);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /**
   * BEGIN … COMMIT around `fn` (ROLLBACK when it throws). `settings` are applied with SET LOCAL
   * in the same round trip as BEGIN (names and values are code constants, checked here).
   */
  async transaction<T>(
    fn: (client: pg.PoolClient) => Promise<T>,
    settings: Record<string, string | number> = {},
  ): Promise<T> {
    let begin = "BEGIN";
    for (const [name, value] of Object.entries(settings)) {
      if (!/^[a-z_]+$/.test(name) || !/^[A-Za-z0-9_]+$/.test(String(value))) {
        throw new RangeError(`invalid transaction setting ${name}=${value}`);
      }
      begin += `; SET LOCAL ${name} = '${value}'`;
    }
    return this.withClient(async (client) => {
      await client.query(begin);
      try {
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
    });
  }

  /**
   * Opens up to `n` connections (bounded by the pool size) and returns them to the pool, so the
   * first requests do not pay for TCP + authentication. Returns how many are open. They are
   * opened a few at a time: fifty authentications at once on a busy box outlast the connect
   * timeout. A connection that still cannot be had after a retry ends the warm-up early (the
   * caller logs how far it got: a cold connection is slower, not an error); an unreachable
   * server is thrown.
   */
  async warm(n: number = this.size, parallel = 8): Promise<number> {
    // Connections already checked out (the outbox dispatcher delivering rows a previous process
    // left) are warm: asking for them too would wait for their release.
    const busy = this.pool.totalCount - this.pool.idleCount;
    const want = Math.max(0, Math.min(Math.trunc(n), this.size - busy));
    const held: pg.PoolClient[] = [];
    try {
      while (held.length < want) {
        const wave = Math.min(parallel, want - held.length);
        const clients = await Promise.allSettled(Array.from({ length: wave }, () => this.connectWithRetry()));
        const failed = clients.find((c): c is PromiseRejectedResult => c.status === "rejected");
        for (const c of clients) if (c.status === "fulfilled") held.push(c.value);
        if (failed !== undefined) {
          if (held.length === 0) throw translateError(failed.reason);
          break;
        }
      }
    } finally {
      for (const client of held) client.release();
    }
    return this.pool.totalCount;
  }

  private async connectWithRetry(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch {
      return this.pool.connect();
    }
  }

  stats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** Closes every connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
