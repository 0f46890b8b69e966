import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { RevocationSnapshot, RevocationStore } from "../../ports/revocation-store";
import { ensurePrivateFile } from "./private-files";

/**
 * The embedded mode's revocation list: a small SQLite file of its own under DATA_DIR, shared
 * by the server's workers and `bun run token revoke` (another process) through the file.
 */
export class SqliteRevocationStore implements RevocationStore {
  private readonly db: Database;

  constructor(path: string) {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      ensurePrivateFile(path);
    }
    this.db = new Database(path, { create: true, readwrite: true, strict: true });
    this.db.run("PRAGMA busy_timeout = 5000");
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("CREATE TABLE IF NOT EXISTS revoked_jti (jti TEXT PRIMARY KEY, forget_at INTEGER NOT NULL)");
    this.db.run(
      "CREATE TABLE IF NOT EXISTS revoked_sub (sub TEXT PRIMARY KEY, issued_up_to INTEGER NOT NULL, forget_at INTEGER NOT NULL)",
    );
    this.db.run("CREATE TABLE IF NOT EXISTS revocation_version (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)");
    this.db.run("INSERT OR IGNORE INTO revocation_version (id, value) VALUES (1, 0)");
  }

  async revokeJti(jti: string, forgetAtMs: number): Promise<void> {
    this.db.transaction(() => {
      this.db.run(
        "INSERT INTO revoked_jti (jti, forget_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET forget_at = max(forget_at, excluded.forget_at)",
        [jti, forgetAtMs],
      );
      this.bump();
    })();
  }

  async revokeSub(sub: string, issuedUpToSeconds: number, forgetAtMs: number): Promise<void> {
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO revoked_sub (sub, issued_up_to, forget_at) VALUES (?, ?, ?)
         ON CONFLICT (sub) DO UPDATE SET issued_up_to = max(issued_up_to, excluded.issued_up_to), forget_at = max(forget_at, excluded.forget_at)`,
        [sub, issuedUpToSeconds, forgetAtMs],
      );
      this.bump();
    })();
  }

  private bump(): void {
    const now = Date.now();
    this.db.run("DELETE FROM revoked_jti WHERE forget_at < ?", [now]);
    this.db.run("DELETE FROM revoked_sub WHERE forget_at < ?", [now]);
    this.db.run("UPDATE revocation_version SET value = value + 1 WHERE id = 1");
  }

  async version(): Promise<string> {
    const row = this.db.query<{ value: number }, []>("SELECT value FROM revocation_version WHERE id = 1").get();
    return String(row?.value ?? 0);
  }

  async load(nowMs: number): Promise<RevocationSnapshot> {
    const jtis = this.db
      .query<{ jti: string; forget_at: number }, [number]>("SELECT jti, forget_at FROM revoked_jti WHERE forget_at >= ?")
      .all(nowMs);
    const subs = this.db
      .query<{ sub: string; issued_up_to: number }, [number]>("SELECT sub, issued_up_to FROM revoked_sub WHERE forget_at >= ?")
      .all(nowMs);
    return {
      jtis: new Map(jtis.map((r) => [r.jti, r.forget_at])),
      subs: new Map(subs.map((r) => [r.sub, r.issued_up_to])),
    };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
