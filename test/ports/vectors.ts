/**
 * Synthetic unit vectors with controlled cosine similarity. The query direction is axis 0;
 * `similar(d, s, axis)` = s·e0 + √(1−s²)·e_axis has cosine s with it, and two such vectors on
 * different axes have cosine s₁·s₂. These test store behaviour, not a model.
 */

/** The query direction: e0. */
export function queryVector(dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  v[0] = 1;
  return v;
}

/** A unit vector with cosine `similarity` to `queryVector`, its remainder on `axis` (1-based, wraps). */
export function similar(dimensions: number, similarity: number, axis: number): Float32Array {
  const v = new Float32Array(dimensions);
  v[0] = similarity;
  v[1 + ((axis - 1) % (dimensions - 1))] = Math.sqrt(Math.max(0, 1 - similarity * similarity));
  return v;
}

/** e_axis: a unit vector orthogonal to the query direction and to other axes. */
export function axisVector(dimensions: number, axis: number): Float32Array {
  const v = new Float32Array(dimensions);
  v[axis % dimensions] = 1;
  return v;
}

/** Deterministic pseudo-random unit vector (mulberry32 seeded). */
export function randomUnit(dimensions: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    v[i] = next();
    norm += v[i]! * v[i]!;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) v[i]! /= norm;
  return v;
}
