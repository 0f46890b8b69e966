/** Cache keys: SHA-256 of the canonical JSON of what determines an answer, plus the generation. */

/** JSON with object keys sorted, so equal requests give equal strings whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export interface SearchKeyInput {
  user: string;
  query: string;
  collection_id: string;
  search_type: string;
  filters: unknown;
  top_k: number;
  rerank: boolean;
  min_score?: number;
}

/**
 * What determines an answer, as a string: the popularity counter's member and the key's input.
 * Equal to `canonicalJson(input)`, built without sorting the fixed keys (it runs on every
 * search, and the generic walk was 8% of a cached search's CPU).
 */
export function searchDescriptor(input: SearchKeyInput): string {
  const s = JSON.stringify;
  return (
    `{"collection_id":${s(input.collection_id)},` +
    (input.filters === undefined ? "" : `"filters":${canonicalJson(input.filters)},`) +
    (input.min_score === undefined ? "" : `"min_score":${s(input.min_score)},`) +
    `"query":${s(input.query)},"rerank":${s(input.rerank)},"search_type":${s(input.search_type)},` +
    `"top_k":${s(input.top_k)},"user":${s(input.user)}}`
  );
}

/**
 * `model`: the server's embedding model, for answers computed from vectors, so a server never
 * answers from another model's cache entry (a worker with another model refuses such searches).
 */
export function cacheKeyFor(collectionId: string, descriptor: string, generation: number, model?: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  if (model !== undefined) hasher.update(`${model}\n`);
  hasher.update(descriptor);
  return `search:${collectionId}:${generation}:${hasher.digest("hex")}`;
}

export function searchCacheKey(input: SearchKeyInput, generation: number): string {
  return cacheKeyFor(input.collection_id, searchDescriptor(input), generation);
}

/**
 * Where a semantic search's roll-forward state lives (roll-forward.ts): one key per search and
 * model across generations, since the state itself says which change it reflects.
 */
export function rollKeyFor(collectionId: string, descriptor: string, model: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(`${model}\n`);
  hasher.update(descriptor);
  return `roll:${collectionId}:${hasher.digest("hex")}`;
}
