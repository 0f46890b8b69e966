/**
 * What `bun run reembed` needs from the source of truth to move a collection's vectors to
 * another embedding model while it keeps serving (src/reembed/reembed.ts drives it).
 *
 * Each memory records the model that made its current vector (null: a memory written before
 * models were recorded), and a collection under way records its target model and a checkpoint
 * (the last memory seq the run has passed), so a stopped run continues where it stopped.
 */
export interface ReembedState {
  id: string;
  owner: string;
  name: string;
  /** Key of the model that embedded it (src/domain/embedding-model.ts). */
  embedding_model: string;
  /** Key of the model a re-embedding under way moves it to; null when none is. */
  reembed_target: string | null;
  /** The last memory seq the run under way has passed (0 at its start). */
  reembed_checkpoint: number;
}

/** A memory whose vector is not yet the target model's. */
export interface PendingMemory {
  seq: number;
  id: string;
  content: string;
}

/** A pending memory with its vector made by the target model. */
export type EmbeddedPending = PendingMemory & { embedding: Float32Array };

export interface ReembedStore {
  /** Every collection of every owner, in creation order. */
  collections(): Promise<ReembedState[]>;
  collection(id: string): Promise<ReembedState | null>;
  /**
   * Marks the collection as moving to `target`. A run already moving it to `target` keeps its
   * checkpoint (it resumes); one moving it elsewhere starts over at 0. Null when it is gone.
   */
  begin(id: string, target: string): Promise<ReembedState | null>;
  /** The collection's memories, and how many of them have a vector not made by `target`. */
  count(id: string, target: string): Promise<{ total: number; pending: number }>;
  /** Up to `limit` memories after seq `afterSeq` whose vector is not `target`'s, in seq order. */
  pending(id: string, target: string, afterSeq: number, limit: number): Promise<PendingMemory[]>;
  /**
   * Replaces the vectors of these memories, made by `target` from the content given, and moves
   * the checkpoint up to `checkpoint`, atomically, while the collection is still moving to
   * `target`. A memory whose content changed since it was read, or that a write has already
   * embedded with `target`, is left alone. Answers how many vectors were replaced.
   */
  write(id: string, target: string, items: ReadonlyArray<EmbeddedPending>, checkpoint: number): Promise<number>;
  /**
   * Once every derived vector index holds the collection's current vectors (production: the
   * outbox rows of the collection delivered), resolves true; false after `timeoutMs`.
   */
  settle(id: string, timeoutMs: number): Promise<boolean>;
  /**
   * Records `target` as the collection's model and ends the run, in one atomic step, provided no
   * memory is left with a vector of another model. False (nothing changed) otherwise.
   */
  finish(id: string, target: string): Promise<boolean>;
}
