/** Throws unless `vector` is a Float32Array of `dimensions` finite numbers. */
export function assertEmbedding(vector: unknown, dimensions: number, what = "embedding"): Float32Array {
  if (!(vector instanceof Float32Array)) {
    throw new TypeError(`${what} must be a Float32Array`);
  }
  if (vector.length !== dimensions) {
    throw new RangeError(`${what} has ${vector.length} dimensions, expected ${dimensions}`);
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) throw new RangeError(`${what} holds a non-finite value at ${i}`);
  }
  return vector;
}
