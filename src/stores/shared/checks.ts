/** Argument checks every store adapter applies the same way. */

/** Throws unless `vector` is a Float32Array of finite numbers (of `dimensions`, when given). */
export function assertEmbedding(vector: unknown, dimensions: number | undefined, what = "embedding"): Float32Array {
  if (!(vector instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
  if (vector.length === 0) throw new RangeError(`${what} is empty`);
  if (dimensions !== undefined && vector.length !== dimensions) {
    throw new RangeError(`${what} has ${vector.length} dimensions, expected ${dimensions}`);
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) throw new RangeError(`${what} holds a non-finite value at ${i}`);
  }
  return vector;
}

/** A requested result count as an integer in 0..max (NaN and negatives give 0). */
export function clampCount(k: number, max: number): number {
  if (!Number.isFinite(k)) return k === Infinity ? max : 0;
  return Math.max(0, Math.min(max, Math.trunc(k)));
}

/** A patch that changes a memory's content must carry the content's new embedding. */
export function assertPatchEmbedded(patch: { content?: string; embedding?: Float32Array }): void {
  if (patch.content !== undefined && patch.embedding === undefined) {
    throw new TypeError("a patch that changes content must carry the new embedding");
  }
}
