import { legacyModelKey } from "../../domain/embedding-model.ts";

/** Production has only ever run 384-d embeddings (the Milvus schema's). */
const LEGACY = legacyModelKey(384).replaceAll("'", "''");

/**
 * Embedding models (issue 17; self-contained and idempotent, so it may be renumbered): each
 * collection records the model that embedded it and the state of a re-embedding under way
 * (`bun run reembed`); each memory records the model that made its vector (NULL: written before
 * models were recorded, i.e. by the collection's recorded model). Existing collections get the
 * model that was the default until then, which is what embedded them. Adding columns with a
 * constant default rewrites no table.
 */
export const EMBEDDING_MODEL_MIGRATION = `
  ALTER TABLE collections ADD COLUMN IF NOT EXISTS embedding_model text NOT NULL DEFAULT '${LEGACY}';
  ALTER TABLE collections ADD COLUMN IF NOT EXISTS reembed_target text;
  ALTER TABLE collections ADD COLUMN IF NOT EXISTS reembed_checkpoint bigint NOT NULL DEFAULT 0;
  ALTER TABLE memories ADD COLUMN IF NOT EXISTS embedding_model text;
`;
