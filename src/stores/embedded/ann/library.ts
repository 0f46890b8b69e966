import type * as Usearch from "usearch";

/** The shape of an HNSW index the embedded ANN needs (cosine, keys are `memories.seq`). */
export interface AnnGraph {
  /** Adds rows: `vectors` holds `keys.length` vectors of `dimensions()` each, end to end. */
  add(keys: BigUint64Array, vectors: Float32Array): void;
  /** Removes a key if present (its node stays as a tombstone the graph routes around). */
  remove(key: bigint): boolean;
  contains(key: bigint): boolean;
  /** Up to `k` keys, nearest first, with their cosine distances. */
  search(vector: Float32Array, k: number): { keys: BigUint64Array; distances: Float32Array };
  /** Live keys (removed ones not counted). */
  size(): number;
  dimensions(): number;
  save(path: string): void;
  load(path: string): void;
}

export interface AnnParameters {
  dimensions: number;
  /** HNSW M: edges per node. */
  connectivity: number;
  /** ef at insertion. */
  expansionAdd: number;
  /** ef at search (the library raises it to k when k is larger). */
  expansionSearch: number;
}

export interface AnnLibrary {
  create(parameters: AnnParameters): AnnGraph;
}

/**
 * Loads the native HNSW library: USearch by default, or another module of the same API
 * (`module`: a specifier import() resolves; tests name one that fails to load). USearch loads
 * its native binary when imported, so it is imported here, on first use, never at start-up.
 */
export async function loadAnnLibrary(module = "usearch"): Promise<AnnLibrary> {
  const usearch = (await import(module)) as typeof Usearch;
  return {
    create(p) {
      // f16 halves the memory of f32 for the same recall here (the candidates are rescored
      // exactly from SQLite); one thread: the caller already is a search thread
      const index = new usearch.Index({
        dimensions: p.dimensions,
        metric: usearch.MetricKind.Cos,
        quantization: usearch.ScalarKind.F16,
        connectivity: p.connectivity,
        expansion_add: p.expansionAdd,
        expansion_search: p.expansionSearch,
        multi: false,
      });
      return {
        add: (keys, vectors) => index.add(keys, vectors, 1),
        remove: (key) => index.remove(key) !== 0,
        contains: (key) => index.contains(key) === true,
        search: (vector, k) => index.search(vector, k, 1),
        size: () => index.size(),
        dimensions: () => index.dimensions(),
        save: (path) => index.save(path),
        load: (path) => index.load(path),
      };
    },
  };
}
