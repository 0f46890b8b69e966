import { Database, type SQLQueryBindings, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as sqliteVec from "sqlite-vec";
import { ensurePrivateFile } from "./private-files.ts";
import { MIGRATIONS } from "./schema.ts";

export interface OpenDatabaseOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  path: string;
  /** Embedding dimensions; fixed when the database is created. */
  dimensions: number;
  /**
   * `FULL` (default): a resolved write survives power loss. `NORMAL`: it survives a process
   * crash; the last commits may be lost on power loss, commits are cheaper.
   */
  synchronous?: "FULL" | "NORMAL";
  /** How long a writer waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Page cache of this connection, KiB (SQLite's default is 2 MiB). Default 64 MiB. */
  cacheSizeKiB?: number;
  /** Bytes of the file read through mmap (shared between workers). Default 256 MiB; 0 = off. */
  mmapSizeBytes?: number;
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}

export function isMemoryPath(path: string): boolean {
  return path === "" || path === ":memory:" || path.startsWith("file:");
}

/**
 * Opens (creating if needed) the embedded SQLite database: WAL, busy timeout, foreign keys,
 * sqlite-vec loaded, and every pending migration applied (tracked in `PRAGMA user_version`).
 */
export function openDatabase(options: OpenDatabaseOptions): Database {
  const { path, dimensions } = options;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 8192) {
    throw new RangeError(`dimensions must be an integer in 1..8192, got ${dimensions}`);
  }
  if (!isMemoryPath(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    ensurePrivateFile(path); // every tenant's memories: owner only, whatever the umask
  }

  const db = new Database(path, { create: true, readwrite: true, strict: true });
  try {
    db.run(`PRAGMA busy_timeout = ${nonNegativeInt(options.busyTimeoutMs, 5000, "busyTimeoutMs")}`);
    db.run("PRAGMA journal_mode = WAL"); // stays "memory" for :memory:
    db.run(`PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`);
    db.run("PRAGMA foreign_keys = ON");
    db.run("PRAGMA temp_store = MEMORY");
    // Measured on 20k x 384-d: the 2 MiB default cache halves the batch insert rate, and mmap
    // takes a third off a vec0 KNN scan.
    db.run(`PRAGMA cache_size = -${nonNegativeInt(options.cacheSizeKiB, 65_536, "cacheSizeKiB")}`);
    db.run(`PRAGMA mmap_size = ${nonNegativeInt(options.mmapSizeBytes, 256 * 1024 * 1024, "mmapSizeBytes")}`);
    sqliteVec.load(db);
    migrate(db, dimensions);
    checkDimensions(db, dimensions);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function userVersion(db: Database): number {
  const row = db.query("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

function migrate(db: Database, dimensions: number): void {
  for (let target = 1; target <= MIGRATIONS.length; target++) {
    if (userVersion(db) >= target) continue;
    const step = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (userVersion(db) >= target) return;
      MIGRATIONS[target - 1]!(db, { dimensions });
      db.run(`PRAGMA user_version = ${target}`);
    });
    step.immediate();
  }
  const version = userVersion(db);
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the database schema is version ${version}, newer than this build knows (${MIGRATIONS.length})`,
    );
  }
}

function checkDimensions(db: Database, dimensions: number): void {
  const row = db.query("SELECT value FROM store_meta WHERE key = 'dimensions'").get() as
    | { value: string }
    | null;
  if (row !== null && Number(row.value) !== dimensions) {
    throw new Error(
      `the database was created for ${row.value}-dimensional embeddings, not ${dimensions}; ` +
        `use another path or the original model`,
    );
  }
}

/**
 * Prepared statements for SQL built at run time (filters), bounded so that many filter
 * shapes cannot grow memory without limit (unlike `db.query`, whose cache never shrinks).
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement<unknown, SQLQueryBindings[]>>();

  constructor(
    private readonly db: Database,
    private readonly maxEntries = 256,
  ) {}

  get<T>(sql: string): Statement<T, SQLQueryBindings[]> {
    let statement = this.statements.get(sql);
    if (statement !== undefined) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= this.maxEntries) {
        const oldest = this.statements.entries().next();
        if (!oldest.done) {
          this.statements.delete(oldest.value[0]);
          oldest.value[1].finalize();
        }
      }
    }
    this.statements.set(sql, statement);
    return statement as Statement<T, SQLQueryBindings[]>;
  }

  clear(): void {
    for (const statement of this.statements.values()) statement.finalize();
    this.statements.clear();
  }
}
