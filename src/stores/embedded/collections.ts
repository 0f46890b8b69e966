import type { Database } from "bun:sqlite";
import type { Collection } from "../../domain/collection.ts";
import { DuplicateNameError } from "../../domain/errors.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";

const COLUMNS = "id, owner, name, description, created_at";

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as Error & { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE" &&
    error.message.includes("collections.owner")
  );
}

/** Owner-scoped collections; a collection that is not the caller's reads as absent. */
export class EmbeddedCollectionStore implements CollectionStore {
  private readonly insertStmt;
  private readonly listStmt;
  private readonly getStmt;
  private readonly deleteStmt;

  constructor(db: Database) {
    this.insertStmt = db.prepare<null, [string, string, string, string | null, string]>(
      `INSERT INTO collections (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`,
    );
    this.listStmt = db.prepare<Collection, [string]>(
      `SELECT ${COLUMNS} FROM collections WHERE owner = ? ORDER BY created_at, rowid`,
    );
    this.getStmt = db.prepare<Collection, [string, string]>(
      `SELECT ${COLUMNS} FROM collections WHERE id = ? AND owner = ?`,
    );
    // Memories go by ON DELETE CASCADE; their triggers remove FTS, vec0 and embedding rows,
    // all within this one statement (atomic).
    this.deleteStmt = db.prepare<null, [string, string]>(
      `DELETE FROM collections WHERE id = ? AND owner = ?`,
    );
  }

  async create(owner: string, input: { name: string; description: string | null }): Promise<Collection> {
    const collection: Collection = {
      id: crypto.randomUUID(),
      owner,
      name: input.name,
      description: input.description ?? null,
      created_at: new Date().toISOString(),
    };
    try {
      this.insertStmt.run(
        collection.id,
        collection.owner,
        collection.name,
        collection.description,
        collection.created_at,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateNameError(input.name);
      throw error;
    }
    return collection;
  }

  async list(owner: string): Promise<Collection[]> {
    return this.listStmt.all(owner);
  }

  async get(owner: string, id: string): Promise<Collection | null> {
    return this.getStmt.get(id, owner);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    return this.deleteStmt.run(id, owner).changes > 0;
  }
}
