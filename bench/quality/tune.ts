/**
 * `bun run bench/quality/tune.ts [--model NAME] [--stage hybrid|rerank|graph|all, or several: hybrid,graph]
 * [--rerank-lengths 128,64] [--rerank-scorer cross-encoder|bi-encoder:FOLDER] [--report-test]`: grid search of the hybrid fusion settings, of the
 * premium reranker's interpolation and of a graph term fused into hybrid, on the DEV split only
 * (the test split stays untouched for reporting). One ingest per data set; each setting is
 * another app over the same stores. Cross-encoder scores are cached per (query, document)
 * pair, so the rerank grid costs one scoring pass.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATASET_NAMES, loadDataset, type QualityDataset } from "./dataset";
import { evaluateMode, ingest, type Ingested, type Mode } from "./eval";
import { openQualityApp } from "./app";
import { openRerankerByName } from "./rerankers";
import { interpolatedReranker } from "../../src/ml/interpolated-reranker";
import { loadConfig } from "../../src/config";
import type { Reranker } from "../../src/ports/reranker";
import type { HybridFusion } from "../../src/search/pipeline";
import { meanScores, scoreRanking, type RankingScores } from "./metrics";

const log = (line: string) => console.log(`[tune] ${line}`);
const option = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

function cached(inner: Reranker): Reranker {
  const memo = new Map<string, number>();
  return {
    model: inner.model,
    async score(query, documents) {
      const missing = documents.filter((d) => !memo.has(`${query}\u0000${d}`));
      if (missing.length > 0) {
        const scores = await inner.score(query, missing);
        missing.forEach((d, i) => memo.set(`${query}\u0000${d}`, scores[i]!));
      }
      return documents.map((d) => memo.get(`${query}\u0000${d}`)!);
    },
    close: () => inner.close(),
  };
}

/** The objective: mean over data sets of (R@5 + nDCG@10) / 2. */
const objective = (per: RankingScores[]) => per.reduce((a, s) => a + (s["R@5"] + s["nDCG@10"]) / 2, 0) / per.length;
const fmt = (per: RankingScores[]) => per.map((s) => `R@1 ${s["R@1"].toFixed(3)} R@5 ${s["R@5"].toFixed(3)} R@10 ${s["R@10"].toFixed(3)} nDCG ${s["nDCG@10"].toFixed(3)}`).join(" | ");

async function main() {
  const model = option("model") ?? "all-minilm-l6-v2";
  const stage = option("stage") ?? "all";
  const stages = new Set(stage.split(","));
  const runs = (name: string) => stages.has(name) || stages.has("all");
  const app = await openQualityApp({ embeddingModelDir: join("models", model) });
  const sets: { set: QualityDataset; ingested: Ingested }[] = [];
  for (const name of DATASET_NAMES) {
    const set = loadDataset(name);
    sets.push({ set, ingested: await ingest(app.call, set, log) });
  }
  const opts = { split: "dev" as const, modes: [] };
  const run = async (call: ReturnType<typeof app.variant>, mode: Mode) =>
    Promise.all(sets.map(async ({ set, ingested }) => (await evaluateMode(call, set, ingested, mode, opts)).scores));
  const report: Record<string, unknown>[] = [];

  // without the hybrid stage, the rerank stage starts from the fusion the server ships
  const shipped = loadConfig({}).search;
  let best: { hybrid: HybridFusion; candidates: number } = {
    hybrid: { rrfK: shipped.hybridRrfK, semanticWeight: shipped.hybridSemanticWeight, keywordWeight: shipped.hybridKeywordWeight },
    candidates: shipped.hybridCandidates,
  };
  if (runs("hybrid")) {
    let bestScore = -1;
    for (const candidates of [50, 100]) {
      for (const rrfK of [10, 20, 40, 60]) {
        for (const [semanticWeight, keywordWeight] of [[1, 1], [1, 0.75], [1, 0.5], [1, 0.35], [0.75, 1]] as const) {
          const hybrid = { rrfK, semanticWeight, keywordWeight };
          const per = await run(app.variant({ hybrid, hybridCandidates: candidates }), "hybrid");
          const score = objective(per);
          report.push({ stage: "hybrid", candidates, ...hybrid, objective: score, per });
          log(`hybrid pool ${candidates} k ${rrfK} w ${semanticWeight}/${keywordWeight}: ${score.toFixed(4)} ${fmt(per)}`);
          if (score > bestScore) {
            bestScore = score;
            best = { hybrid, candidates };
          }
        }
      }
    }
    log(`best hybrid on dev: ${JSON.stringify(best)} (${bestScore.toFixed(4)})`);
    if (process.argv.includes("--report-test") && !runs("rerank")) {
      const test = { split: "test" as const, modes: [] };
      const shippedFusion = { hybrid: { rrfK: shipped.hybridRrfK, semanticWeight: shipped.hybridSemanticWeight, keywordWeight: shipped.hybridKeywordWeight }, hybridCandidates: shipped.hybridCandidates };
      for (const [label, settings, mode] of [
        ["semantic", {}, "semantic"],
        ["keyword", {}, "keyword"],
        ["hybrid, shipped", shippedFusion, "hybrid"],
        [`hybrid, best on dev`, { hybrid: best.hybrid, hybridCandidates: best.candidates }, "hybrid"],
      ] as const) {
        for (const { set, ingested } of sets) {
          const r = await evaluateMode(app.variant(settings), set, ingested, mode, test);
          report.push({ stage: "hybrid-test", label, dataset: set.name, result: r });
          log(`TEST | ${set.name} | ${label} | ${(["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"] as const).map((m) => r.scores[m].toFixed(3)).join(" | ")} | ${r.latencyMs.p50.toFixed(1)} | ${r.latencyMs.p95.toFixed(1)} |`);
        }
      }
    }
  }

  if (runs("rerank")) {
    // pair lengths to compare (each one is its own scoring pass); the first is the shipped one
    // (a bi-encoder, `--rerank-scorer bi-encoder:e5-small-v2`, has one: its model's own cut)
    const scorerName = option("rerank-scorer") ?? "cross-encoder";
    const lengths = scorerName === "cross-encoder" ? (option("rerank-lengths") ?? String(loadConfig(process.env).reranker.maxLength)).split(",").map(Number) : [0];
    const scorers = new Map<number, Reranker>();
    for (const maxLength of lengths) scorers.set(maxLength, cached(await openRerankerByName(scorerName, maxLength > 0 ? { maxLength } : {})));
    const shippedLengthScorer = scorers.get(lengths[0]!)!;
    const base = { hybrid: best.hybrid, hybridCandidates: best.candidates };
    const plain = await run(app.variant(base), "hybrid");
    log(`hybrid (no rerank): ${objective(plain).toFixed(4)} ${fmt(plain)}`);
    report.push({ stage: "rerank", reranker: "none", objective: objective(plain), per: plain });
    // the largest pool first: the smaller pools' pairs are then already scored
    for (const [maxLength, scorer] of scorers) {
      for (const rerankCandidates of [50, 20, 10]) {
        const alone = await run(app.variant({ ...base, reranker: scorer, rerankCandidates }), "hybrid+rerank");
        report.push({ stage: "rerank", reranker: scorerName, maxLength, rerankCandidates, objective: objective(alone), per: alone });
        log(`${scorerName} alone, length ${maxLength}, ${rerankCandidates} candidates: ${objective(alone).toFixed(4)} ${fmt(alone)}`);
        for (const rankK of [20, 60]) {
          for (const weight of [0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8]) {
            const reranker = interpolatedReranker(scorer, { weight, rankK });
            const per = await run(app.variant({ ...base, reranker, rerankCandidates }), "hybrid+rerank");
            report.push({ stage: "rerank", reranker: "interpolated", scorer: scorerName, maxLength, rerankCandidates, weight, rankK, objective: objective(per), per });
            log(`interpolated w ${weight} k ${rankK}, length ${maxLength}, ${rerankCandidates} candidates: ${objective(per).toFixed(4)} ${fmt(per)}`);
          }
        }
      }
    }
    // the best interpolation on dev, then everything on TEST with the defaults and the tuned settings
    const bestRerank = report
      .filter((r) => r.stage === "rerank" && r.reranker === "interpolated")
      .sort((a, b) => (b.objective as number) - (a.objective as number))[0] as { weight: number; rankK: number; maxLength: number; rerankCandidates: number } | undefined;
    log(`best interpolation on dev: ${JSON.stringify(bestRerank)}`);
    if (process.argv.includes("--report-test") && bestRerank) {
      const test = { split: "test" as const, modes: [] };
      const lines: string[] = [];
      const variants: [string, ReturnType<typeof app.variant>, Mode][] = [
        ["semantic", app.variant({}), "semantic"],
        ["keyword", app.variant({}), "keyword"],
        ["hybrid (k 60, 1/1, pool 50)", app.variant({ hybrid: { rrfK: 60, semanticWeight: 1, keywordWeight: 1 }, hybridCandidates: 50 }), "hybrid"],
        [`hybrid tuned (${JSON.stringify(best)})`, app.variant(base), "hybrid"],
        [`hybrid+rerank: ${scorerName} alone`, app.variant({ ...base, reranker: shippedLengthScorer }), "hybrid+rerank"],
        [
          `hybrid+rerank: ${scorerName} interpolated w ${bestRerank.weight} k ${bestRerank.rankK}, length ${bestRerank.maxLength}, ${bestRerank.rerankCandidates} candidates`,
          app.variant({ ...base, reranker: interpolatedReranker(scorers.get(bestRerank.maxLength)!, bestRerank), rerankCandidates: bestRerank.rerankCandidates }),
          "hybrid+rerank",
        ],
        ["graph", app.variant({}), "graph"],
      ];
      for (const [label, call, mode] of variants) {
        for (const { set, ingested } of sets) {
          const r = await evaluateMode(call, set, ingested, mode, test);
          const line = `| ${set.name} | ${label} | ${(["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"] as const).map((m) => r.scores[m].toFixed(3)).join(" | ")} | ${r.latencyMs.p50.toFixed(1)} | ${r.latencyMs.p95.toFixed(1)} |`;
          lines.push(line);
          report.push({ stage: "test", label, dataset: set.name, result: r });
          log(`TEST ${line}`);
        }
      }
      console.log(["| data set | mode | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | p50 ms | p95 ms |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", ...lines].join("\n"));
    }
    for (const scorer of scorers.values()) await scorer.close();
  }
  if (runs("graph")) {
    // Does graph search add to hybrid? Both answer top 50 through the API; the graph's rank is
    // then fused into the hybrid order (weighted RRF), the fusion a server-side graph term would do.
    const base = { hybrid: best.hybrid, hybridCandidates: best.candidates };
    const lists = async (split: "dev" | "test") =>
      Promise.all(
        sets.map(async ({ set, ingested }) => {
          const opts = { split, modes: [], topK: 50, keepRankings: true };
          const hybrid = (await evaluateMode(app.variant(base), set, ingested, "hybrid", opts)).rankings!;
          const graph = (await evaluateMode(app.variant(base), set, ingested, "graph", opts)).rankings!;
          return { set, hybrid, graph };
        }),
      );
    const fused = (per: Awaited<ReturnType<typeof lists>>, graphWeight: number, k: number, split: "dev" | "test") =>
      per.map(({ set, hybrid, graph }) =>
        meanScores(
          set.queries
            .filter((q) => q.split === split)
            .map((q) => {
              const score = new Map<string, number>();
              (hybrid[q.id] ?? []).forEach((d, i) => score.set(d, (score.get(d) ?? 0) + 1 / (k + i + 1)));
              (graph[q.id] ?? []).forEach((d, i) => score.set(d, (score.get(d) ?? 0) + graphWeight / (k + i + 1)));
              const ranked = [...score.entries()].sort((a, b) => b[1] - a[1]).map(([d]) => d);
              return scoreRanking(ranked, new Set(q.relevant));
            }),
        ),
      );
    const dev = await lists("dev");
    let bestGraph = { graphWeight: 0, k: 20, objective: objective(fused(dev, 0, 20, "dev")) };
    log(`hybrid alone (top 50 re-fused): ${bestGraph.objective.toFixed(4)} ${fmt(fused(dev, 0, 20, "dev"))}`);
    for (const k of [20, 60]) {
      for (const graphWeight of [0.1, 0.25, 0.5, 1]) {
        const per = fused(dev, graphWeight, k, "dev");
        report.push({ stage: "graph", graphWeight, k, objective: objective(per), per });
        log(`hybrid + graph w ${graphWeight} k ${k}: ${objective(per).toFixed(4)} ${fmt(per)}`);
        if (objective(per) > bestGraph.objective) bestGraph = { graphWeight, k, objective: objective(per) };
      }
    }
    log(`best graph fusion on dev: ${JSON.stringify(bestGraph)}`);
    if (process.argv.includes("--report-test")) {
      const test = await lists("test");
      for (const [label, w, k] of [["hybrid", 0, 20], [`hybrid + graph w ${bestGraph.graphWeight} k ${bestGraph.k}`, bestGraph.graphWeight, bestGraph.k]] as const) {
        const per = fused(test, w, k, "test");
        report.push({ stage: "graph-test", label, per });
        log(`TEST ${label}: ${fmt(per)}`);
      }
    }
  }
  const scorerTag = option("rerank-scorer")?.startsWith("bi-encoder:") ? `-${option("rerank-scorer")!.replace(":", "-")}` : "";
  const out = join(import.meta.dir, "..", "results", `quality-tune-${model}-${stage.replaceAll(",", "-")}${scorerTag}.json`);
  writeFileSync(out, JSON.stringify({ command: `bun run bench/quality/tune.ts ${process.argv.slice(2).join(" ")}`, when: new Date().toISOString(), model, report }, null, 2) + "\n");
  log(`wrote ${out}`);
  await app.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
