/**
 * A second "model" for the embedding-model tests: a folder that links the real all-MiniLM-L6-v2
 * files and declares another name and a document/query prefix. A test double for a model's
 * IDENTITY, not for quality: its vectors differ from MiniLM's (the prefixes change every text),
 * so a collection embedded by one is measurably not embedded by the other, and it loads in a
 * second without fetching anything. A real alternative (bge-small-en-v1.5) is fetched with
 * `bun run fetch-models --model bge-small-en-v1.5`.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The real all-MiniLM-L6-v2 folder (`bun run fetch-models`), whatever EMBEDDING_MODEL_DIR says. */
export const MINILM_DIR = "models/all-minilm-l6-v2";

export const DOUBLE_MODEL_NAME = "minilm-prefixed-test-double";

export interface ModelDouble {
  dir: string;
  remove(): void;
}

export function createModelDouble(name = DOUBLE_MODEL_NAME): ModelDouble {
  const source = resolve(MINILM_DIR);
  const dir = mkdtempSync(join(tmpdir(), "memory-api-model-double-"));
  for (const entry of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx"]) {
    symlinkSync(join(source, entry), join(dir, entry));
  }
  const spec = JSON.parse(readFileSync(join(source, "memory-api.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(
    join(dir, "memory-api.json"),
    JSON.stringify({ ...spec, name, query_prefix: "query: ", document_prefix: "passage: ", source: "test double of all-minilm-l6-v2" }),
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
