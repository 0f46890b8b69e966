import type { Database } from "bun:sqlite";
import type { EmbeddedKeywordIndex } from "./keyword-index.ts";
import type { Collection, CollectionPatch } from "../../domain/collection.ts";
import { DuplicateNameError } from "../../domain/errors.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";

const COLUMNS = "id, owner, name, description, created_at, embedding_model, reembed_target, dedupe_threshold";
const INSERTED = "id, owner, name, description, created_at, dedupe_threshold";

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
  private readonly insertWithModelStmt;
  private readonly listStmt;
  private readonly getStmt;
  private readonly deleteStmt;
  private readonly updateStmt;

  constructor(
    private readonly db: Database,
    private readonly keywords: EmbeddedKeywordIndex,
  ) {
    // Without a model, the column's default: the model collections had before models were recorded.
    this.insertStmt = db.prepare<Collection, [string, string, string, string | null, string, number | null]>(
      `INSERT INTO collections (${INSERTED}) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    );
    this.insertWithModelStmt = db.prepare<Collection, [string, string, string, string | null, string, number | null, string]>(
      `INSERT INTO collections (${INSERTED}, embedding_model) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    );
    this.listStmt = db.prepare<Collection, [string]>(
      `SELECT ${COLUMNS} FROM collections WHERE owner = ? ORDER BY created_at, rowid`,
    );
    this.getStmt = db.prepare<Collection, [string, string]>(
      `SELECT ${COLUMNS} FROM collections WHERE id = ? AND owner = ?`,
    );
    this.updateStmt = db.prepare<Collection, [string | null, number, string | null, number, number | null, string, string]>(
      `UPDATE collections SET name = coalesce(?, name), description = CASE WHEN ? THEN ? ELSE description END,
         dedupe_threshold = CASE WHEN ? THEN ? ELSE dedupe_threshold END
       WHERE id = ? AND owner = ? RETURNING ${COLUMNS}`,
    );
    // Memories go by ON DELETE CASCADE; their triggers remove vec0 and embedding rows, and the
    // collection's keyword index is dropped in the same transaction (atomic).
    this.deleteStmt = db.prepare<null, [string, string]>(
      `DELETE FROM collections WHERE id = ? AND owner = ?`,
    );
  }

  async create(
    owner: string,
    input: { name: string; description: string | null; embedding_model?: string; dedupe_threshold?: number | null },
  ): Promise<Collection> {
    const values = [
      crypto.randomUUID(),
      owner,
      input.name,
      input.description ?? null,
      new Date().toISOString(),
      input.dedupe_threshold ?? null,
    ] as const;
    try {
      return this.db.transaction(() => {
        const created =
          input.embedding_model === undefined
            ? this.insertStmt.get(...values)!
            : this.insertWithModelStmt.get(...values, input.embedding_model)!;
        this.keywords.create(created.id);
        return created;
      })();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateNameError(input.name);
      throw error;
    }
  }

  async list(owner: string): Promise<Collection[]> {
    return this.listStmt.all(owner);
  }

  async get(owner: string, id: string): Promise<Collection | null> {
    return this.getStmt.get(id, owner);
  }

  async update(owner: string, id: string, patch: CollectionPatch): Promise<Collection | null> {
    const describes = patch.description !== undefined;
    const thresholds = patch.dedupe_threshold !== undefined;
    try {
      return this.updateStmt.get(
        patch.name ?? null,
        describes ? 1 : 0,
        patch.description ?? null,
        thresholds ? 1 : 0,
        patch.dedupe_threshold ?? null,
        id,
        owner,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateNameError(patch.name ?? "");
      throw error;
    }
  }

  async delete(owner: string, id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const deleted = this.deleteStmt.run(id, owner).changes > 0;
      if (deleted) this.keywords.drop(id);
      return deleted;
    })();
  }
}
