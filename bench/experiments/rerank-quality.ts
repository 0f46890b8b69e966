/**
 * `bun run bench/experiments/rerank-quality.ts [--questions 500]`: premium reranking through the
 * public API on real held-out questions: SQuAD v1.1 questions about the four Wikipedia articles
 * the reranker never saw in training (test/support/squad-heldout.ts), every paragraph of those
 * articles a memory. Prints MRR@10, R@1 and R@5 of hybrid search with and without the premium
 * rerank, wired as the server wires it (RERANKER_KIND, its model folder, RERANK_* from the environment).
 * Embedded stores, the real models, in-process. The cross-domain figures that decide the
 * defaults are bench:quality's (docs/quality.md).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config";
import { heldoutQuestions } from "../../test/support/squad-heldout";
import { openPremiumApp } from "./premium-app";

const { values: args } = parseArgs({ options: { questions: { type: "string", default: "500" } } });
const config = loadConfig(process.env);
// the eval asks one search at a time and waits for every answer to be reranked
const app = await openPremiumApp({ ...config, reranker: { ...config.reranker, idleScheduling: false, maxWaitMs: 600_000 } });
const call = (path: string, body: unknown) => app.call(path, body);

const { passages, questions } = heldoutQuestions(Number(args.questions));
const { id: collectionId } = await call("/v1/collections", { name: "squad-heldout" });
const idOf = new Map<number, string>();
for (let i = 0; i < passages.length; i += 100) {
  const batch = passages.slice(i, i + 100);
  const added = await call(`/v1/collections/${collectionId}/memories`, { memories: batch.map((p) => ({ content: p.text })) });
  (added.ids as string[]).forEach((id, j) => idOf.set(batch[j]!.index, id));
}
const ranks: Record<"hybrid" | "reranked", number[]> = { hybrid: [], reranked: [] };
for (const [i, { question, passage }] of questions.entries()) {
  for (const rerank of [false, true]) {
    const answer = await call("/v1/search", { query: question, collection_id: collectionId, search_type: "hybrid", top_k: 10, rerank });
    if (answer.reranked !== rerank) throw new Error(`asked rerank ${rerank}, answered ${answer.reranked} (${answer.rerank_reason})`);
    ranks[rerank ? "reranked" : "hybrid"].push(answer.results.map((r: { id: string }) => r.id).indexOf(idOf.get(passage)) + 1);
  }
  process.stderr.write(`\r${i + 1}/${questions.length} questions`);
}
process.stderr.write("\n");
const at = (rs: number[], n: number) => rs.filter((r) => r > 0 && r <= n).length / rs.length;
const mrr = (rs: number[]) => rs.reduce((sum, r) => sum + (r > 0 ? 1 / r : 0), 0) / rs.length;
const { candidates, interpolationWeight, interpolationRankK } = config.reranker;
console.log(`premium: ${config.reranker.kind} ${config.reranker.kind === "bi-encoder" ? config.reranker.biEncoderDir : config.reranker.modelDir}, pool max(top_k, ${candidates}), interpolation w ${interpolationWeight} k ${interpolationRankK}`);
console.log(`| ranking (${questions.length} held-out SQuAD questions, ${passages.length} paragraphs) | MRR@10 | R@1 | R@5 |\n| --- | --- | --- | --- |`);
for (const [name, rs] of [["hybrid", ranks.hybrid], ["hybrid + premium rerank", ranks.reranked]] as const) {
  console.log(`| ${name} | ${mrr(rs).toFixed(3)} | ${at(rs, 1).toFixed(3)} | ${at(rs, 5).toFixed(3)} |`);
}
await app.close();
