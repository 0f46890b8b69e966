/**
 * The fingerprint of a model folder: a digest of everything that decides the vectors it makes,
 * so a collection can record exactly which model embedded it (src/domain/embedding-model.ts).
 * Hashed: the ONNX file, tokenizer.json (vocabulary, truncation), and the spec's pooling,
 * normalisation and prefixes. Not hashed: the spec's name and dimensions (recorded beside it)
 * and anything that does not change a vector (descriptions, `source`). About 75 ms for the
 * 23 MB default model, once at start-up.
 */
import { join } from "node:path";
import type { ModelFolder } from "./model-folder.ts";

/** Hex characters kept: 64 bits, plenty to tell model files apart. */
const FINGERPRINT_CHARS = 16;

export async function modelFingerprint(folder: ModelFolder): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const { pooling, normalize, query_prefix, document_prefix } = folder.spec;
  hasher.update(JSON.stringify({ pooling, normalize, query_prefix, document_prefix }));
  hasher.update(await Bun.file(folder.onnxFile).bytes());
  hasher.update(await Bun.file(join(folder.dir, "tokenizer.json")).bytes());
  return hasher.digest("hex").slice(0, FINGERPRINT_CHARS);
}
