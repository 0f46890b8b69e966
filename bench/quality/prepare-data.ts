/**
 * `bun run bench/quality/prepare-data.ts --sources DIR`: rebuilds bench/data/*.json.gz, the
 * public human-labelled retrieval sets of the quality eval, from the files named in
 * bench/data/README.md (fetched once from public repositories; checked by sha256 here).
 * Seeded and deterministic: the same sources give byte-identical outputs.
 *
 * Output format (one gzipped JSON per set, see ./dataset.ts): documents [{id, text}] and
 * queries [{id, text, split: "dev" | "test", relevant: [doc ids]}]. Every judged document of a
 * kept query is kept, plus seeded random distractors up to a fixed corpus size.
 */
import { gzipSync, unzipSync, strFromU8 } from "fflate";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../prng";
import type { QualityDataset, QualityQuery } from "./dataset";

const OUT_DIR = join(import.meta.dir, "..", "data");

/** The source files and their pinned checksums (bench/data/README.md says where each comes from). */
const SOURCES = {
  scifactZip: { file: "scifact.zip", sha256: "a798a7046af0f6fa04476448459ce7cafeea5bd90d4d99c53a0e27dc5e1a4673" },
  scifactQueries: { file: "scifact-queries.jsonl", sha256: "8ff84a7c903f722981cd8d595c022660140c51867b27608a6d4910db86080313" },
  scifactQrels: { file: "scifact-qrels-test.tsv", sha256: "0864bb985e0ca2367ba217977e72004d549054b2b06666ed9d4825ac7c21284c" },
  climateFeverZip: { file: "climate-fever.zip", sha256: "3b9b5b227cef7131cf081e3ea1f450ba12d9fb5f287bc2d27b4d3dc0ff707594" },
} as const;

const log = (msg: string) => console.log(`[prepare-data] ${msg}`);

function readSource(dir: string, key: keyof typeof SOURCES): Uint8Array {
  const { file, sha256 } = SOURCES[key];
  const bytes = new Uint8Array(readFileSync(join(dir, file)));
  const got = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  if (got !== sha256) throw new Error(`${file}: sha256 ${got} is not the pinned ${sha256}`);
  return bytes;
}

/** RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** The abstract column is a printed numpy array of Python string literals: ['s1' "s2" ...]. */
export function parsePythonStringList(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/gs)) {
    const body = m[1] ?? m[2] ?? "";
    out.push(body.replace(/\\(.)/gs, (_, ch: string) => (ch === "n" ? "\n" : ch === "t" ? "\t" : ch)));
  }
  return out;
}

function splitQueries(rng: Rng, queries: Omit<QualityQuery, "split">[], dev: number): QualityQuery[] {
  const order = rng.sample(queries, queries.length);
  return order.map((q, i): QualityQuery => ({ ...q, split: i < dev ? "dev" : "test" })).sort((a, b) => compareIds(a.id, b.id));
}

function compareIds(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** Judged documents of the kept queries plus seeded distractors up to `size` documents. */
function pickDocuments(rng: Rng, all: Map<string, string>, queries: QualityQuery[], size: number, judged: Set<string>) {
  const keep = new Set<string>(judged);
  for (const q of queries) for (const id of q.relevant) keep.add(id);
  const others = [...all.keys()].filter((id) => !keep.has(id)).sort(compareIds);
  for (const id of rng.sample(others, Math.max(0, size - keep.size))) keep.add(id);
  return [...keep].sort(compareIds).map((id) => ({ id, text: all.get(id)! }));
}

function scifact(dir: string): QualityDataset {
  const zip = unzipSync(readSource(dir, "scifactZip"));
  const rows = parseCsv(strFromU8(zip["corpus_train.csv"]!));
  const header = rows.shift()!;
  const [idCol, titleCol, abstractCol] = ["doc_id", "title", "abstract"].map((h) => header.indexOf(h));
  const corpus = new Map<string, string>();
  for (const r of rows) {
    if (r.length < header.length) continue;
    const sentences = parsePythonStringList(r[abstractCol!]!).map((s) => s.trim());
    corpus.set(r[idCol!]!, `${r[titleCol!]!.trim()}\n${sentences.join(" ")}`);
  }
  const texts = new Map<string, string>();
  for (const line of strFromU8(readSource(dir, "scifactQueries")).split("\n")) {
    if (!line.trim()) continue;
    const q = JSON.parse(line) as { _id: string; text: string };
    texts.set(q._id, q.text);
  }
  const relevant = new Map<string, string[]>();
  for (const line of strFromU8(readSource(dir, "scifactQrels")).split(/\r?\n/).slice(1)) {
    const [qid, did, score] = line.split("\t");
    if (!qid || !did || Number(score) <= 0) continue;
    if (!corpus.has(did)) throw new Error(`scifact: judged document ${did} is not in the corpus`);
    relevant.set(qid, [...(relevant.get(qid) ?? []), did]);
  }
  const rng = new Rng("scifact-v1");
  const all = [...relevant.entries()].map(([id, rel]) => ({ id, text: texts.get(id)!, relevant: rel.sort(compareIds) }));
  const queries = splitQueries(rng, all, 100);
  const documents = pickDocuments(rng, corpus, queries, 1200, new Set());
  log(`scifact: ${corpus.size} abstracts, ${queries.length} judged claims → ${documents.length} documents kept`);
  return {
    name: "scifact",
    description: "BEIR SciFact test claims → PubMed abstracts that support or refute them (expert-written claims, expert labels)",
    documents,
    queries,
  };
}

function climateFever(dir: string): QualityDataset {
  const zip = unzipSync(readSource(dir, "climateFeverZip"));
  type Claim = { claim_id: string; claim: string; evidences: { evidence_id: string; evidence_label: string; evidence: string }[] };
  const claims = strFromU8(zip["climate-fever.jsonl"]!)
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Claim);
  const corpus = new Map<string, string>();
  const judged = new Map<string, string[]>();
  const relevant: Omit<QualityQuery, "split">[] = [];
  for (const c of claims) {
    for (const e of c.evidences) corpus.set(e.evidence_id, `${e.evidence_id.replace(/:\d+$/, "")}: ${e.evidence}`);
    judged.set(c.claim_id, c.evidences.map((e) => e.evidence_id));
    const rel = c.evidences.filter((e) => e.evidence_label !== "NOT_ENOUGH_INFO").map((e) => e.evidence_id);
    if (rel.length > 0) relevant.push({ id: c.claim_id, text: c.claim, relevant: [...new Set(rel)].sort(compareIds) });
  }
  const rng = new Rng("climate-fever-v1");
  const queries = splitQueries(rng, rng.sample(relevant.sort((a, b) => compareIds(a.id, b.id)), 400), 150);
  // every evidence sentence judged for a kept claim (relevant or not) is a hard distractor: kept
  const judgedKept = new Set(queries.flatMap((q) => judged.get(q.id)!));
  const documents = pickDocuments(rng, corpus, queries, 3000, judgedKept);
  log(`climate-fever: ${corpus.size} evidence sentences, ${relevant.length} claims with evidence → ${queries.length} kept, ${documents.length} documents`);
  return {
    name: "climate-fever",
    description: "Climate-FEVER real-world claims → Wikipedia sentences annotators judged as supporting or refuting evidence",
    documents,
    queries,
  };
}

function write(set: QualityDataset): void {
  const json = JSON.stringify(set);
  // mtime 0: the same input gives the same bytes
  const gz = gzipSync(new TextEncoder().encode(json), { level: 9, mtime: 0 });
  const path = join(OUT_DIR, `${set.name}.json.gz`);
  writeFileSync(path, gz);
  const sha = new Bun.CryptoHasher("sha256").update(gz).digest("hex");
  const counts = `${set.documents.length} docs, ${set.queries.filter((q) => q.split === "dev").length} dev + ${set.queries.filter((q) => q.split === "test").length} test queries`;
  log(`wrote ${path} (${(gz.length / 1024).toFixed(0)} kB, ${counts}) sha256 ${sha}`);
}

if (import.meta.main) {
  const i = process.argv.indexOf("--sources");
  const dir = i > 0 ? process.argv[i + 1] : undefined;
  if (!dir) {
    console.error("usage: bun run bench/quality/prepare-data.ts --sources DIR  (the files listed in bench/data/README.md)");
    process.exit(2);
  }
  write(scifact(dir));
  write(climateFever(dir));
}
