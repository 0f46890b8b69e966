export interface Collection {
  id: string;
  owner: string;
  name: string;
  description: string | null;
  created_at: string; // ISO-8601
  /** Key of the embedding model that embedded its memories (see embedding-model.ts). */
  embedding_model: string;
  /** Key of the model a re-embedding under way moves it to (`bun run reembed`); null when none is. */
  reembed_target: string | null;
  /** Cosine similarity from which a new memory is a near-duplicate (dedupe.ts); null: the default. */
  dedupe_threshold: number | null;
}

/** What PATCH may change of a collection: each field given replaces it. */
export interface CollectionPatch {
  name?: string;
  description?: string | null;
  /** null: back to the default. */
  dedupe_threshold?: number | null;
}
