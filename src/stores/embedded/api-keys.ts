import type { Database } from "bun:sqlite";
import type { ApiKey, ApiKeyScope, NewApiKey, StoredApiKey } from "../../domain/api-key.ts";
import type { ApiKeyStore } from "../../ports/api-key-store.ts";
import type { Migration } from "./schema.ts";

/** API keys in the embedded database (migration 3): shared by every worker that opens the file. */
export const apiKeysMigration: Migration = (db) => {
  db.run(`CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    scopes TEXT NOT NULL,
    collections TEXT,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT
  )`);
  db.run(`CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (owner, created_at)`);
};

interface Row {
  id: string;
  owner: string;
  name: string;
  tier: string;
  scopes: string;
  collections: string | null;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

const PUBLIC_COLUMNS = "id, owner, name, tier, scopes, collections, created_at, last_used_at, expires_at";

function toKey(row: Omit<Row, "secret_hash">): ApiKey {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    tier: row.tier,
    scopes: JSON.parse(row.scopes) as ApiKeyScope[],
    collections: row.collections === null ? null : (JSON.parse(row.collections) as string[]),
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    expires_at: row.expires_at,
  };
}

export class EmbeddedApiKeyStore implements ApiKeyStore {
  private readonly insertStmt;
  private readonly listStmt;
  private readonly getStmt;
  private readonly findStmt;
  private readonly countStmt;
  private readonly deleteStmt;
  private readonly touchStmt;

  constructor(db: Database) {
    this.insertStmt = db.prepare<null, [string, string, string, string, string, string | null, string, string, string | null]>(
      `INSERT INTO api_keys (id, owner, name, tier, scopes, collections, secret_hash, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.listStmt = db.prepare<Omit<Row, "secret_hash">, [string]>(
      `SELECT ${PUBLIC_COLUMNS} FROM api_keys WHERE owner = ? ORDER BY created_at, rowid`,
    );
    this.getStmt = db.prepare<Omit<Row, "secret_hash">, [string, string]>(
      `SELECT ${PUBLIC_COLUMNS} FROM api_keys WHERE id = ? AND owner = ?`,
    );
    this.findStmt = db.prepare<Row, [string]>(`SELECT ${PUBLIC_COLUMNS}, secret_hash FROM api_keys WHERE id = ?`);
    this.countStmt = db.prepare<{ n: number }, [string]>(`SELECT count(*) AS n FROM api_keys WHERE owner = ?`);
    this.deleteStmt = db.prepare<null, [string, string]>(`DELETE FROM api_keys WHERE id = ? AND owner = ?`);
    this.touchStmt = db.prepare<null, [string, string, string]>(
      `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
    );
  }

  async create(key: NewApiKey): Promise<ApiKey> {
    const created_at = new Date().toISOString();
    this.insertStmt.run(
      key.id,
      key.owner,
      key.name,
      key.tier,
      JSON.stringify(key.scopes),
      key.collections === null ? null : JSON.stringify(key.collections),
      key.secret_hash,
      created_at,
      key.expires_at,
    );
    const { secret_hash: _, ...shown } = key;
    return { ...shown, created_at, last_used_at: null };
  }

  async list(owner: string): Promise<ApiKey[]> {
    return this.listStmt.all(owner).map(toKey);
  }

  async get(owner: string, id: string): Promise<ApiKey | null> {
    const row = this.getStmt.get(id, owner);
    return row ? toKey(row) : null;
  }

  async find(id: string): Promise<StoredApiKey | null> {
    const row = this.findStmt.get(id);
    return row ? { ...toKey(row), secret_hash: row.secret_hash } : null;
  }

  async count(owner: string): Promise<number> {
    return this.countStmt.get(owner)?.n ?? 0;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    return this.deleteStmt.run(id, owner).changes > 0;
  }

  async touch(id: string, at: string): Promise<void> {
    this.touchStmt.run(at, id, at);
  }
}
