import type { ApiKey, NewApiKey, StoredApiKey } from "../../domain/api-key.ts";
import type { ApiKeyStore } from "../../ports/api-key-store.ts";
import type { PgPool } from "./pool.ts";
import { assertNoNul, isoSql } from "./rows.ts";

const COLUMNS = `id, owner, name, tier, scopes, collections, ${isoSql("created_at")} AS created_at,
  ${isoSql("last_used_at")} AS last_used_at, ${isoSql("expires_at")} AS expires_at`;

type Row = ApiKey & Record<string, unknown>;

/** API keys in PostgreSQL (migration 3); the table every worker verifies presented keys against. */
export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: PgPool) {}

  async create(key: NewApiKey): Promise<ApiKey> {
    assertNoNul(key.owner, "owner");
    assertNoNul(key.name, "name");
    for (const id of key.collections ?? []) assertNoNul(id, "collections");
    const { rows } = await this.pool.query<Row>(
      {
        name: "api_keys.create",
        text: `INSERT INTO api_keys (id, owner, name, tier, scopes, collections, secret_hash, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      },
      [key.id, key.owner, key.name, key.tier, key.scopes, key.collections, key.secret_hash, key.expires_at],
    );
    return rows[0]!;
  }

  async list(owner: string): Promise<ApiKey[]> {
    if (owner.includes("\u0000")) return [];
    const { rows } = await this.pool.query<Row>(
      { name: "api_keys.list", text: `SELECT ${COLUMNS} FROM api_keys WHERE owner = $1 ORDER BY seq` },
      [owner],
    );
    return rows;
  }

  async get(owner: string, id: string): Promise<ApiKey | null> {
    if (owner.includes("\u0000") || id.includes("\u0000")) return null;
    const { rows } = await this.pool.query<Row>(
      { name: "api_keys.get", text: `SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND owner = $2` },
      [id, owner],
    );
    return rows[0] ?? null;
  }

  async find(id: string): Promise<StoredApiKey | null> {
    if (id.includes("\u0000")) return null;
    const { rows } = await this.pool.query<StoredApiKey & Record<string, unknown>>(
      { name: "api_keys.find", text: `SELECT ${COLUMNS}, secret_hash FROM api_keys WHERE id = $1` },
      [id],
    );
    return rows[0] ?? null;
  }

  async count(owner: string): Promise<number> {
    if (owner.includes("\u0000")) return 0;
    const { rows } = await this.pool.query<{ n: number }>(
      { name: "api_keys.count", text: `SELECT count(*)::int AS n FROM api_keys WHERE owner = $1` },
      [owner],
    );
    return rows[0]!.n;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (owner.includes("\u0000") || id.includes("\u0000")) return false;
    const { rowCount } = await this.pool.query(
      { name: "api_keys.delete", text: `DELETE FROM api_keys WHERE id = $1 AND owner = $2` },
      [id, owner],
    );
    return (rowCount ?? 0) > 0;
  }

  async touch(id: string, at: string): Promise<void> {
    if (id.includes("\u0000")) return;
    await this.pool.query(
      {
        name: "api_keys.touch",
        text: `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`,
      },
      [id, at],
    );
  }
}
