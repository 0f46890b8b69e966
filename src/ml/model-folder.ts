/**
 * A local model folder in the layout transformers.js loads offline, plus our own
 * `memory-api.json` that says how to turn the encoder's output into a sentence vector.
 * Checked before anything is loaded, so a missing file is named instead of surfacing as a
 * cryptic transformers.js error.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

export type Pooling = "mean" | "cls";
/** transformers.js dtype; picks the file name under `onnx/` (q8 → model_quantized.onnx, fp32 → model.onnx). */
export type ModelDtype = "q8" | "fp32";

/** Contents of `memory-api.json`. */
export interface ModelSpec {
  name: string;
  dimensions: number;
  pooling: Pooling;
  normalize: boolean;
  /** Prepended to "query" texts (e.g. bge's retrieval instruction). */
  query_prefix: string;
  /** Prepended to "document" texts. */
  document_prefix: string;
}

export interface ModelFolder {
  /** Absolute path of the folder. */
  dir: string;
  spec: ModelSpec;
  dtype: ModelDtype;
  /** Absolute path of the ONNX file the loader will open. */
  onnxFile: string;
}

export const SPEC_FILE = "memory-api.json";
export const REQUIRED_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", SPEC_FILE] as const;
/** Candidates in order of preference, with the dtype that makes transformers.js pick each one. */
export const ONNX_CANDIDATES: ReadonlyArray<{ file: string; dtype: ModelDtype }> = [
  { file: "onnx/model_quantized.onnx", dtype: "q8" },
  { file: "onnx/model.onnx", dtype: "fp32" },
];

const FETCH_HINT = "run `bun run fetch-models` (scripts/fetch-models.ts)";

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelFolderError";
  }
}

function isNonEmptyFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

/** Display path: as given by the caller (often relative), joined with the file name. */
function shown(dir: string, file: string): string {
  return join(dir, file);
}

export function parseModelSpec(raw: unknown, where: string): ModelSpec {
  const o = (raw ?? {}) as Record<string, unknown>;
  const bad = (field: string, want: string) =>
    new ModelFolderError(`${where}: field "${field}" must be ${want}`);
  if (typeof o.name !== "string" || o.name === "") throw bad("name", "a non-empty string");
  if (typeof o.dimensions !== "number" || !Number.isInteger(o.dimensions) || o.dimensions <= 0)
    throw bad("dimensions", "a positive integer");
  if (o.pooling !== "mean" && o.pooling !== "cls") throw bad("pooling", `"mean" or "cls"`);
  const normalize = o.normalize ?? true;
  if (typeof normalize !== "boolean") throw bad("normalize", "a boolean");
  const qp = o.query_prefix ?? "";
  const dp = o.document_prefix ?? "";
  if (typeof qp !== "string") throw bad("query_prefix", "a string");
  if (typeof dp !== "string") throw bad("document_prefix", "a string");
  return { name: o.name, dimensions: o.dimensions, pooling: o.pooling, normalize, query_prefix: qp, document_prefix: dp };
}

/**
 * Checks that `dir` holds a loadable model and reads its spec.
 * Throws ModelFolderError naming the first missing file, e.g.
 * "models/all-minilm-l6-v2/tokenizer.json is missing: run `bun run fetch-models` ...".
 */
export function checkModelFolder(dir: string): ModelFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFolderError(`model folder ${dir} is missing: ${FETCH_HINT}`);
  }
  for (const file of REQUIRED_FILES) {
    if (!isNonEmptyFile(join(dir, file))) {
      throw new ModelFolderError(`${shown(dir, file)} is missing: ${FETCH_HINT}`);
    }
  }
  const onnx = ONNX_CANDIDATES.find((c) => isNonEmptyFile(join(dir, c.file)));
  if (!onnx) {
    const names = ONNX_CANDIDATES.map((c) => shown(dir, c.file)).join(" or ");
    throw new ModelFolderError(`${names} is missing: ${FETCH_HINT}`);
  }
  const specPath = shown(dir, SPEC_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, SPEC_FILE), "utf8"));
  } catch (e) {
    throw new ModelFolderError(`${specPath} is not valid JSON (${(e as Error).message}): ${FETCH_HINT} --force`);
  }
  const abs = resolve(dir);
  return { dir: abs, spec: parseModelSpec(raw, specPath), dtype: onnx.dtype, onnxFile: join(abs, onnx.file) };
}

/** transformers.js resolves models as `env.localModelPath + modelId`; split a folder into the two. */
export function loaderLocation(folder: ModelFolder): { localModelPath: string; modelId: string } {
  return { localModelPath: dirname(folder.dir) + "/", modelId: basename(folder.dir) };
}
