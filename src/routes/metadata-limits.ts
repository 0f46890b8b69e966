import type { Metadata } from "../domain/memory";
import { InvalidInputError } from "../domain/errors";
import { LIMITS } from "../domain/limits";

function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const child of Object.values(value as Record<string, unknown>)) {
    deepest = Math.max(deepest, depthOf(child));
    if (deepest > LIMITS.metadataDepth) break;
  }
  return 1 + deepest;
}

/** Metadata is free-form JSON, bounded in size and depth so it cannot be used to exhaust the stores. */
export function checkMetadata(field: string, metadata: Metadata | undefined): Metadata {
  if (metadata === undefined) return {};
  if (Array.isArray(metadata)) throw new InvalidInputError(field, "must be a JSON object, not an array");
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > LIMITS.metadataBytes) {
    throw new InvalidInputError(field, `metadata is ${bytes} bytes; at most ${LIMITS.metadataBytes} are allowed`);
  }
  if (depthOf(metadata) > LIMITS.metadataDepth) {
    throw new InvalidInputError(field, `metadata nests deeper than ${LIMITS.metadataDepth} levels`);
  }
  return metadata;
}
