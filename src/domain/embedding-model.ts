/**
 * Which embedding model made a collection's vectors. Vectors of two models live in different
 * spaces: comparing a query embedded by one with memories embedded by the other gives
 * meaningless scores, so a collection records its model and a server whose model differs
 * refuses to mix them (see `assertCanEmbedInto` / `assertCanSearchByMeaning`).
 *
 * A model is recorded as a key `name@dimensions#fingerprint`, e.g.
 * `all-minilm-l6-v2@384#afdb6f1a0e45b715`. The fingerprint hashes what decides the vectors
 * (the ONNX weights, the tokenizer, pooling and prefixes: src/ml/model-identity.ts), so two
 * folders with the same name but other weights (another export, another quantization) differ.
 * A key without a fingerprint means "this model, exact files unknown": collections that
 * existed before models were recorded carry one, and it matches any server whose model has
 * that name and those dimensions.
 */
import { EmbeddingModelMismatchError } from "./errors.ts";

export interface EmbeddingModelId {
  name: string;
  dimensions: number;
  /** Hex digest of the model's files and settings; null when unknown. */
  fingerprint: string | null;
}

/** The model every collection made before models were recorded was embedded by (the default then). */
export const LEGACY_MODEL_NAME = "all-minilm-l6-v2";

/** The key recorded on collections that predate model records, in a store of `dimensions`. */
export function legacyModelKey(dimensions: number): string {
  return embeddingModelKey({ name: LEGACY_MODEL_NAME, dimensions, fingerprint: null });
}

export function embeddingModelKey(id: EmbeddingModelId): string {
  return `${id.name}@${id.dimensions}${id.fingerprint === null ? "" : `#${id.fingerprint}`}`;
}

const KEY = /^(.+)@(\d+)(?:#([0-9a-f]+))?$/;

/** The parts of a recorded key; a key this code did not write reads as a name of unknown dimensions. */
export function parseEmbeddingModelKey(key: string): EmbeddingModelId {
  const match = KEY.exec(key);
  if (match === null) return { name: key, dimensions: 0, fingerprint: null };
  return { name: match[1]!, dimensions: Number(match[2]), fingerprint: match[3] ?? null };
}

/** The key of what an embedder (the Embedder port) embeds with. */
export function modelKeyOf(embedder: { model: string; dimensions: number; fingerprint?: string }): string {
  return embeddingModelKey({ name: embedder.model, dimensions: embedder.dimensions, fingerprint: embedder.fingerprint ?? null });
}

/** "all-minilm-l6-v2 (384-d, afdb6f1a0e45)" for messages. */
export function describeEmbeddingModel(key: string): string {
  const id = parseEmbeddingModelKey(key);
  const parts = [id.dimensions > 0 ? `${id.dimensions}-d` : null, id.fingerprint === null ? null : id.fingerprint.slice(0, 12)];
  const details = parts.filter((p) => p !== null).join(", ");
  return details === "" ? id.name : `${id.name} (${details})`;
}

/**
 * Whether vectors recorded under `recorded` can be compared with vectors made by `current`:
 * the same name and dimensions, and the same fingerprint when both are known.
 */
export function sameVectorSpace(recorded: string, current: string): boolean {
  if (recorded === current) return true;
  const a = parseEmbeddingModelKey(recorded);
  const b = parseEmbeddingModelKey(current);
  return (
    a.name === b.name &&
    a.dimensions === b.dimensions &&
    a.dimensions > 0 &&
    (a.fingerprint === null || b.fingerprint === null || a.fingerprint === b.fingerprint)
  );
}

/** What the model checks need to know of a collection. */
export interface CollectionModel {
  id: string;
  /** The key of the model that embedded the collection's memories. */
  embedding_model: string;
  /** The model a re-embedding under way is moving it to; null when none is. */
  reembed_target: string | null;
}

/**
 * A write that embeds (new memories, a changed content) is accepted when the server embeds with
 * the collection's model, or, while the collection is being re-embedded, with the model it is
 * moving to (such writes are then already done and the re-embedding skips them).
 */
export function assertCanEmbedInto(collection: CollectionModel, serverModel: string): void {
  const expected = collection.reembed_target ?? collection.embedding_model;
  if (sameVectorSpace(expected, serverModel)) return;
  const server = describeEmbeddingModel(serverModel);
  const detail =
    collection.reembed_target === null
      ? `collection ${collection.id} was embedded by ${describeEmbeddingModel(collection.embedding_model)}; this server ` +
        `embeds with ${server}: their vectors cannot be mixed, so writes that embed text are refused (reads, deletes, ` +
        `metadata changes and keyword search still work). ${migrateHint(collection.id)}`
      : `collection ${collection.id} is being re-embedded with ${describeEmbeddingModel(collection.reembed_target)}; this ` +
        `server embeds with ${server}: only a server with that model may write text to it until the re-embedding ends`;
  throw mismatch(collection, serverModel, "write", detail);
}

/**
 * A search by meaning (semantic, hybrid, graph) compares the query's vector with the stored ones:
 * it needs every stored vector to come from the server's model, so it is refused while a
 * re-embedding is under way (the collection then holds vectors of both models).
 */
export function assertCanSearchByMeaning(collection: CollectionModel, serverModel: string): void {
  if (collection.reembed_target === null && sameVectorSpace(collection.embedding_model, serverModel)) return;
  const server = describeEmbeddingModel(serverModel);
  const detail =
    collection.reembed_target === null
      ? `collection ${collection.id} was embedded by ${describeEmbeddingModel(collection.embedding_model)}; this server ` +
        `embeds with ${server}: their vectors cannot be compared, so semantic, hybrid and graph search are refused ` +
        `(keyword search and reads still work). ${migrateHint(collection.id)}`
      : `collection ${collection.id} is being re-embedded from ${describeEmbeddingModel(collection.embedding_model)} to ` +
        `${describeEmbeddingModel(collection.reembed_target)}: semantic, hybrid and graph search resume when it ends ` +
        `(keyword search and reads work meanwhile); if no run is under way, continue it with ` +
        `\`bun run reembed --collection ${collection.id}\`` +
        (sameVectorSpace(collection.reembed_target, serverModel) ? "" : `; this server embeds with ${server}, another model again`);
  throw mismatch(collection, serverModel, "search", detail);
}

const migrateHint = (collectionId: string) =>
  `Re-embed it with the server's model: \`bun run reembed --collection ${collectionId}\` (see docs/models.md).`;

const mismatch = (collection: CollectionModel, serverModel: string, operation: "write" | "search", detail: string) =>
  new EmbeddingModelMismatchError(
    { collectionId: collection.id, recorded: collection.embedding_model, server: serverModel, target: collection.reembed_target, operation },
    detail,
  );
