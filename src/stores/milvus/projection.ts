import type { Metadata, Scalar } from "../../domain/memory.ts";

/**
 * The `metadata` JSON field holds a typed projection of a memory's metadata, built for filters:
 * each top-level scalar value under the key `<kind><hex of the key's UTF-8>`, kind `s` string,
 * `n` number, `b` boolean. Arrays, objects and null are left out (no filter can match them);
 * content and the full metadata live in PostgreSQL.
 *
 * Why not the metadata as is: a Milvus 2.3 JSON path cannot name every key. `m["a][b"]`,
 * `m[""]` and keys with `"][`, control or non-ASCII characters are refused or silently match
 * nothing (measured, see test/stores/milvus.test.ts). Hex keys are `[0-9a-f]` only, so any key
 * works; and with the kind in the key, a condition on numbers can only ever read numbers: the
 * strict typing (true ≠ 1 ≠ "1") holds by construction, not by Milvus' comparison rules.
 */
export type ScalarKind = "s" | "n" | "b";

export function kindOf(value: Scalar): ScalarKind {
  return typeof value === "string" ? "s" : typeof value === "number" ? "n" : "b";
}

const encoder = new TextEncoder();

/** The projected key of a metadata key for one kind of value; null for a key with a lone surrogate. */
export function projectedKey(kind: ScalarKind, key: string): string | null {
  if (!key.isWellFormed()) return null;
  return kind + Buffer.from(encoder.encode(key)).toString("hex");
}

/** The projection stored in the `metadata` field (see above). */
export function projectMetadata(metadata: Metadata): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [key, value] of Object.entries(metadata)) {
    let kind: ScalarKind;
    if (typeof value === "string") {
      if (!value.isWellFormed()) continue; // not Unicode text: no (well-formed) filter value equals it
      kind = "s";
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) continue;
      kind = "n";
    } else if (typeof value === "boolean") {
      kind = "b";
    } else {
      continue;
    }
    const projected = projectedKey(kind, key);
    if (projected !== null) out[projected] = typeof value === "number" && value === 0 ? 0 : value;
  }
  return out;
}
