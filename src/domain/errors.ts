/** Domain errors: thrown below the HTTP layer, turned into problems by src/http/errors.ts alone. */

/** Thrown by CollectionStore.create when the owner already has a collection of that name. */
export class DuplicateNameError extends Error {
  constructor(readonly collectionName: string) {
    super(`a collection named "${collectionName}" already exists`);
  }
}

/** Thrown by MemoryStore.upsert when the collection does not exist (deleted while the write was on its way). */
export class CollectionNotFoundError extends Error {
  constructor(readonly collectionId: string) {
    super(`collection ${collectionId} does not exist`);
  }
}

/** Thrown by MemoryStore.list when a cursor was not produced by this store. */
export class InvalidCursorError extends Error {
  constructor() {
    super("cursor is not valid");
  }
}

/** Thrown by a bounded queue (embedder, reranker) that is full; the HTTP layer answers 503 + Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly queue: string, readonly retryAfterSeconds = 1) {
    super(`${queue} queue is full`);
  }
}

/** A dependency needed for this request is down; the HTTP layer answers 503 + Retry-After. */
export class DependencyUnavailableError extends Error {
  constructor(readonly dependency: string, readonly retryAfterSeconds = 2, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/** What the caller asked for does not exist, or is not theirs: the two look the same from outside. */
export class NotFoundError extends Error {
  /** `what` names the resource ("collection", "memory"); `detail` replaces the default message. */
  constructor(readonly what: string, detail?: string) {
    super(detail ?? `${what} not found`);
  }
}

/** A value the caller gave is not acceptable; `field` is its dotted path (e.g. `filters.metadata.a`). */
export class InvalidInputError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
  }
}

/** A premium feature (reranking) asked for by a tier that does not have it. */
export class PremiumRequiredError extends Error {
  constructor(readonly feature: string, readonly tier: string) {
    super(`${feature} needs a premium plan (pro or enterprise); this token's tier is ${tier}`);
  }
}

/**
 * Thrown by MemoryStore.patch when the memory changed since the `ifUpdatedAt` the patch was
 * computed from (a concurrent write): the caller recomputes from the new state and retries.
 */
export class StaleUpdateError extends Error {
  constructor(readonly memoryId: string) {
    super(`memory ${memoryId} changed while this update was computed`);
  }
}

/**
 * A collection's vectors come from another embedding model than the server's (or are being
 * re-embedded): writing new vectors or searching by meaning would mix incomparable vectors.
 * Built by src/domain/embedding-model.ts, which words `detail`.
 */
export class EmbeddingModelMismatchError extends Error {
  constructor(
    readonly mismatch: {
      collectionId: string;
      /** Key of the model that embedded the collection. */
      recorded: string;
      /** Key of the server's model. */
      server: string;
      /** Key of the model a re-embedding under way moves the collection to, or null. */
      target: string | null;
      operation: "write" | "search";
    },
    detail: string,
  ) {
    super(detail);
  }
}
