/**
 * Moves a collection's vectors to the embedder's model, in batches, while the collection keeps
 * serving (`bun run reembed`, scripts/reembed.ts):
 *
 * 1. The collection is marked as moving to the target model (`begin`). From then on, writes
 *    that embed are accepted only from servers with the target model (they record it on each
 *    memory, so the run skips them: never redone), and searches by meaning are refused with
 *    the mismatch problem: the collection holds vectors of two models until the end. Reads and
 *    keyword search work throughout.
 * 2. Memories whose vector is not the target's are re-embedded in seq order, a batch at a time;
 *    each batch's vectors and the checkpoint (the last seq passed) commit together, so a
 *    stopped or killed run continues after its last committed batch.
 * 3. A pass from the start catches memories a server with the old model wrote behind the run.
 * 4. Once the vector index holds every new vector, the recorded model flips to the target in
 *    one atomic step (only if no memory is left behind), and the cache generation is bumped.
 */
import {
  describeEmbeddingModel,
  modelKeyOf,
  parseEmbeddingModelKey,
  sameVectorSpace,
} from "../domain/embedding-model.ts";
import { NotFoundError } from "../domain/errors.ts";
import type { Embedder } from "../ports/embedder.ts";
import type { ReembedState, ReembedStore } from "../ports/reembed-store.ts";
import type { SearchCache } from "../ports/search-cache.ts";

export interface ReembedDeps {
  store: ReembedStore;
  /** Embeds with the target model: the server's (same configuration). */
  embedder: Embedder;
  cache: Pick<SearchCache, "bumpGeneration">;
}

export interface ReembedProgress {
  collectionId: string;
  /** Memories whose vector is the target model's. */
  done: number;
  total: number;
  /** Memories re-embedded per second by this run so far. */
  rate: number;
  /** Seconds left at that rate; null before the first batch. */
  etaSeconds: number | null;
}

export interface ReembedOptions {
  /** Memories embedded and committed together. */
  batch: number;
  /** Stop after this many batches (a run to continue later); default: no limit. */
  maxBatches?: number;
  /** Re-embed even a collection already embedded by a compatible model. */
  force?: boolean;
  /** Bound on waiting for the vector index to hold every new vector before the flip. Default 120 s. */
  settleTimeoutMs?: number;
  /** Called after every batch, and once at the start. */
  onProgress?: (progress: ReembedProgress) => void;
  /** Aborted: stop after the batch under way (it is committed), as `maxBatches` would. */
  signal?: AbortSignal;
}

export interface ReembedOutcome {
  collectionId: string;
  /** done: flipped to the target; up_to_date: nothing to do; stopped: continue it by running again. */
  status: "done" | "up_to_date" | "stopped";
  from: string;
  to: string;
  total: number;
  /** Vectors this run replaced. */
  reembedded: number;
  batches: number;
  seconds: number;
}

/** A re-embedding that cannot go on: the message says why and what to do. */
export class ReembedError extends Error {}

/** Passes from the start after which memories still written by an old-model server stop the run. */
const MAX_SWEEPS = 5;

export async function reembedCollection(deps: ReembedDeps, collectionId: string, opts: ReembedOptions): Promise<ReembedOutcome> {
  if (!Number.isInteger(opts.batch) || opts.batch < 1) throw new RangeError(`batch must be a positive integer, got ${opts.batch}`);
  const started = performance.now();
  const target = modelKeyOf(deps.embedder);
  const initial = await deps.store.collection(collectionId);
  if (initial === null) throw new NotFoundError("collection", `collection ${collectionId} does not exist`);
  assertSameDimensions(initial, target);
  const outcome = (status: ReembedOutcome["status"], total: number, reembedded: number, batches: number): ReembedOutcome => ({
    collectionId,
    status,
    from: initial.embedding_model,
    to: target,
    total,
    reembedded,
    batches,
    seconds: (performance.now() - started) / 1000,
  });
  if (initial.reembed_target === null && sameVectorSpace(initial.embedding_model, target) && opts.force !== true) {
    return outcome("up_to_date", (await deps.store.count(collectionId, target)).total, 0, 0);
  }

  const state = await deps.store.begin(collectionId, target);
  if (state === null) throw new NotFoundError("collection", `collection ${collectionId} does not exist`);
  // Answers cached before the run (computed from the old vectors) are not served during it.
  await deps.cache.bumpGeneration(collectionId);

  const counted = await deps.store.count(collectionId, target);
  let total = counted.total;
  let done = counted.total - counted.pending;
  let reembedded = 0;
  let batches = 0;
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? reembedded / seconds : 0;
    const left = Math.max(0, total - done);
    opts.onProgress?.({ collectionId, done, total, rate, etaSeconds: rate > 0 ? left / rate : left === 0 ? 0 : null });
  };
  report();

  let after = state.reembed_checkpoint;
  let sweeps = 0;
  for (;;) {
    const rows = await deps.store.pending(collectionId, target, after, opts.batch);
    if (rows.length === 0) {
      if (after > 0) {
        // The pass from the checkpoint is over: one from the start catches what was written behind it.
        if (++sweeps > MAX_SWEEPS) {
          throw new ReembedError(
            `memories of collection ${collectionId} keep being written with another model than ` +
              `${describeEmbeddingModel(target)}: stop the servers that still run the old model, then run again`,
          );
        }
        after = 0;
        continue;
      }
      if (!(await deps.store.settle(collectionId, opts.settleTimeoutMs ?? 120_000))) {
        throw new ReembedError(
          `the vector index has not received every new vector of collection ${collectionId} in time ` +
            `(is it up? see /ready); every vector is stored: run again to finish`,
        );
      }
      if (await deps.store.finish(collectionId, target)) break;
      const now = await deps.store.collection(collectionId);
      if (now === null) throw new NotFoundError("collection", `collection ${collectionId} was deleted during the re-embedding`);
      if (now.reembed_target !== target) {
        throw new ReembedError(
          `another run moved collection ${collectionId} to ${describeEmbeddingModel(now.reembed_target ?? now.embedding_model)} meanwhile`,
        );
      }
      continue; // a memory was written with another model just now: one more pass
    }
    if ((opts.maxBatches !== undefined && batches >= opts.maxBatches) || opts.signal?.aborted) {
      return outcome("stopped", total, reembedded, batches);
    }
    const vectors = await deps.embedder.embed(
      rows.map((r) => r.content),
      "document",
    );
    const written = await deps.store.write(
      collectionId,
      target,
      rows.map((row, i) => ({ ...row, embedding: vectors[i]! })),
      rows[rows.length - 1]!.seq,
    );
    after = rows[rows.length - 1]!.seq;
    batches++;
    reembedded += written;
    done += written;
    total = Math.max(total, done);
    report();
  }
  try {
    await deps.cache.bumpGeneration(collectionId);
  } catch (error) {
    throw new ReembedError(
      `collection ${collectionId} now records ${describeEmbeddingModel(target)}, but the search cache's generation ` +
        `could not be bumped (${String(error)}): answers cached before the re-embedding may be served until their TTL ends`,
    );
  }
  total = (await deps.store.count(collectionId, target)).total;
  done = total;
  report();
  return outcome("done", total, reembedded, batches);
}

/** The vectors of one store all have one length: a model of another cannot be moved into it. */
function assertSameDimensions(state: ReembedState, target: string): void {
  const from = parseEmbeddingModelKey(state.embedding_model).dimensions;
  const to = parseEmbeddingModelKey(target).dimensions;
  if (from > 0 && from !== to) {
    throw new ReembedError(
      `collection ${state.id} holds ${from}-d vectors and ${describeEmbeddingModel(target)} makes ${to}-d ones: ` +
        `re-embedding cannot change dimensions in place (see docs/models.md, "Changing dimensions")`,
    );
  }
}
