/**
 * `bun run bench:quality`: retrieval quality on public, human-labelled data (bench/data/)
 * through the public API, per embedding model, data set and search mode. Writes
 * bench/results/quality-<time>.{json,md} and prints progress and the table.
 *
 *   --models a,b        model folders under models/ (default: all-minilm-l6-v2)
 *   --datasets a,b      default: every set in bench/data
 *   --split dev|test    default: test (tune on dev, report on test)
 *   --modes a,b         default: semantic,keyword,hybrid,graph,hybrid+rerank
 *   --reranker NAME     the premium reranker: see rerankers.ts (default: the one premium ships)
 *   --production        the real services (PostgreSQL, Milvus, Neo4j, Redis) instead of embedded
 *   --rrf-k N --semantic-weight W --keyword-weight W --candidates N   hybrid fusion settings
 *   --slice Q,D         only the first Q queries of the split and D documents (theirs first)
 *   --tag TEXT          appended to the output file names
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { DATASET_NAMES, loadDataset, sliceDataset, type Split } from "./dataset";
import { evaluateDataset, MODES, type DatasetResult, type Mode } from "./eval";
import { openQualityApp } from "./app";
import { METRIC_NAMES } from "./metrics";
import { openRerankerByName, DEFAULT_PREMIUM_RERANKER, RERANKER_NAMES } from "./rerankers";

const log = (line: string) => console.log(`[quality] ${line}`);

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const list = (name: string, fallback: readonly string[]) => option(name)?.split(",").filter(Boolean) ?? [...fallback];
const num = (name: string) => (option(name) === undefined ? undefined : Number(option(name)));

export interface ModelRun {
  model: string;
  reranker: string;
  production: boolean;
  hybrid: { rrfK: number; semanticWeight: number; keywordWeight: number; candidates: number };
  results: DatasetResult[];
}

export function markdownTable(runs: ModelRun[]): string {
  const lines = [
    `| data set | model | mode | ${METRIC_NAMES.join(" | ")} | p50 ms | p95 ms |`,
    `| --- | --- | --- | ${METRIC_NAMES.map(() => "---:").join(" | ")} | ---: | ---: |`,
  ];
  for (const run of runs) {
    for (const r of run.results) {
      for (const m of r.modes) {
        const label = m.mode === "hybrid+rerank" ? `hybrid+rerank (${run.reranker})` : m.mode;
        const fallbacks = m.rerankFallbacks ? ` [${m.rerankFallbacks} unreranked]` : "";
        lines.push(
          `| ${r.dataset} (${r.split}, ${m.queries} q, ${r.documents} docs) | ${run.model}${run.production ? " (production)" : ""} | ${label}${fallbacks} | ${METRIC_NAMES.map((k) => m.scores[k].toFixed(3)).join(" | ")} | ${m.latencyMs.p50.toFixed(1)} | ${m.latencyMs.p95.toFixed(1)} |`,
        );
      }
    }
  }
  return lines.join("\n");
}

export function ingestTable(runs: ModelRun[]): string {
  const lines = ["| model | data set | documents | ingest s | documents/s |", "| --- | --- | ---: | ---: | ---: |"];
  for (const run of runs) {
    for (const r of run.results) {
      lines.push(`| ${run.model} | ${r.dataset} | ${r.documents} | ${r.ingestSeconds.toFixed(1)} | ${(r.documents / r.ingestSeconds).toFixed(1)} |`);
    }
  }
  return lines.join("\n");
}

async function main() {
  const config = loadConfig();
  const models = list("models", ["all-minilm-l6-v2"]);
  const datasets = list("datasets", DATASET_NAMES);
  const split = (option("split") ?? "test") as Split;
  if (split !== "dev" && split !== "test") throw new Error(`--split must be dev or test, not ${split}`);
  const modes = list("modes", MODES) as Mode[];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m}; known: ${MODES.join(", ")}`);
  const rerankerName = option("reranker") ?? DEFAULT_PREMIUM_RERANKER;
  if (!RERANKER_NAMES.includes(rerankerName)) throw new Error(`unknown reranker ${rerankerName}; known: ${RERANKER_NAMES.join(", ")}`);
  const production = process.argv.includes("--production");
  const hybrid = {
    rrfK: num("rrf-k") ?? config.search.hybridRrfK,
    semanticWeight: num("semantic-weight") ?? config.search.hybridSemanticWeight,
    keywordWeight: num("keyword-weight") ?? config.search.hybridKeywordWeight,
    candidates: num("candidates") ?? config.search.hybridCandidates,
  };
  const tag = option("tag");
  const stamp = new Date().toISOString().replaceAll(":", "-").replace(/\..*/, "");
  const base = join(import.meta.dir, "..", "results", `quality-${stamp}${tag ? `-${tag}` : ""}`);
  const command = `bun run bench:quality ${process.argv.slice(2).join(" ")}`.trim();
  log(`${command}: models ${models.join(", ")}; data ${datasets.join(", ")}; split ${split}; modes ${modes.join(", ")}; reranker ${rerankerName}${production ? "; production" : ""}`);

  const runs: ModelRun[] = [];
  for (const model of models) {
    const reranker = modes.includes("hybrid+rerank") ? await openRerankerByName(rerankerName) : undefined;
    const app = await openQualityApp({
      embeddingModelDir: join("models", model),
      reranker,
      production,
      hybridCandidates: hybrid.candidates,
      hybrid,
      rerankCandidates: config.reranker.candidates,
    });
    const run: ModelRun = { model, reranker: rerankerName, production, hybrid, results: [] };
    for (const name of datasets) {
      const slice = option("slice")?.split(",").map(Number);
      const set = slice ? sliceDataset(loadDataset(name), split, slice[0]!, slice[1]!) : loadDataset(name);
      log(`${model} × ${name}: ${set.documents.length} documents, ${set.queries.filter((q) => q.split === split).length} ${split} queries`);
      const result = await evaluateDataset(app.call, set, { split, modes, progress: log });
      run.results.push(result);
      console.log(markdownTable([{ ...run, results: [result] }]));
    }
    runs.push(run);
    await app.close();
    await reranker?.close();
  }
  mkdirSync(join(import.meta.dir, "..", "results"), { recursive: true });
  const when = new Date().toISOString();
  writeFileSync(`${base}.json`, JSON.stringify({ command, when, split, runs }, null, 2) + "\n");
  const md = `# Retrieval quality (${when})\n\n\`${command}\`\n\n${markdownTable(runs)}\n\nIngest through the API (embedding included):\n\n${ingestTable(runs)}\n`;
  writeFileSync(`${base}.md`, md);
  console.log(`\n${md}`);
  log(`wrote ${base}.json and ${base}.md`);
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(`[quality] error: ${e instanceof Error ? e.stack : String(e)}`);
      process.exit(1);
    },
  );
}
