/**
 * Entity names are compared by a normal form, so that "Alice", "alice", " ALICE " and
 * "Alice's" are one entity within a collection: Unicode NFKC, lower case, whitespace collapsed,
 * a trailing possessive ('s, ’s, or a bare apostrophe) removed, and punctuation at the edges
 * that is not part of a name (quotes, brackets, commas, full stops) trimmed. Everything else is
 * kept as it is: a name is data, never syntax.
 */
export const MAX_ENTITY_NAME = 200;

// The trailing run may only start where a run starts: from inside one it would be rescanned
// from each of its positions (quadratic on "a.....a", which a long URL mention can be).
const EDGE_PUNCTUATION = /^[\s"“”‘’'`(\[{<,;:!?.]+|(?<![\s"“”‘’'`)\]}>,;:!?.])[\s"“”‘’'`)\]}>,;:!?.]+$/gu;
const POSSESSIVE = /(?:['’]s|s['’]|['’])$/u;

export function normaliseName(raw: string): string {
  const collapsed = raw.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
  let name = collapsed;
  for (let i = 0; i < 3; i++) {
    const before = name;
    name = name.replace(EDGE_PUNCTUATION, "");
    if (POSSESSIVE.test(name)) name = name.replace(/s['’]$/u, "s").replace(/['’]s?$/u, "");
    if (name === before) break;
  }
  // A name of nothing but punctuation ("...", "'s") is still a name: kept as written.
  return (name || collapsed).slice(0, MAX_ENTITY_NAME);
}

/** A label without a letter or digit ("->", "=") says no more than that two entities are related. */
export const GENERIC_RELATION = "RELATED_TO";

/** A relation label: upper case words joined by underscores (`lives in` → `LIVES_IN`). */
export function normaliseRelation(raw: string): string {
  const label = raw
    .normalize("NFKC")
    .trim()
    .replace(/['’]s$/u, "")
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .join("_")
    .toUpperCase()
    .slice(0, 64);
  return label || GENERIC_RELATION;
}

/** Entity types are free-form but compared in lower case. */
export function normaliseType(raw: string): string {
  return raw.normalize("NFKC").trim().toLowerCase().replace(/\s+/gu, "_").slice(0, 64) || "thing";
}

/** A crude English stem for matching relation labels against query words (lives/living/lived → liv). */
export function stem(word: string): string {
  const w = word.toLowerCase();
  if (w.length <= 3) return w;
  for (const suffix of ["ing", "ies", "ed", "es", "s", "e"]) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) return w.slice(0, -suffix.length);
  }
  return w;
}
