import type { ChangeOp, MemoryChange, MemoryState } from "../../domain/memory-change.ts";

/** A change-log row as both adapters read it; `M` is how the driver hands back metadata. */
export interface ChangeRowOf<M> {
  seq: number | string;
  memory_id: string;
  op: ChangeOp;
  at: string;
  by: string | null;
  old_content: string | null;
  old_metadata: M | null;
  old_expires_at: string | null;
  new_content: string | null;
  new_metadata: M | null;
  new_expires_at: string | null;
}

/** The domain's MemoryChange of a row; `metadataOf` turns the driver's metadata into the domain's. */
export function changeFromRow<M>(row: ChangeRowOf<M>, metadataOf: (metadata: M) => MemoryState["metadata"]): MemoryChange {
  const state = (content: string | null, metadata: M | null, expiresAt: string | null): MemoryState | null =>
    content === null || metadata === null ? null : { content, metadata: metadataOf(metadata), expires_at: expiresAt };
  return {
    seq: Number(row.seq),
    memory_id: row.memory_id,
    op: row.op,
    at: row.at,
    by: row.by,
    old: state(row.old_content, row.old_metadata, row.old_expires_at),
    new: state(row.new_content, row.new_metadata, row.new_expires_at),
  };
}
