/**
 * `bun run bench/quality/throughput.ts [--models a,b]`: embedding throughput of each model folder
 * on the same texts (the first 200 SciFact abstracts and 400 Climate-FEVER sentences of
 * bench/data), in batches of 32 on one thread, as documents (queries: 200 claims, one at a time).
 */
import { join } from "node:path";
import { createOnnxEmbedder } from "../../src/ml/embedder";
import { loadDataset } from "./dataset";

const i = process.argv.indexOf("--models");
const models = i > 0 ? process.argv[i + 1]!.split(",") : ["all-minilm-l6-v2", "bge-small-en-v1.5", "e5-small-v2"];
const scifact = loadDataset("scifact");
const climate = loadDataset("climate-fever");
const sets = {
  "scifact abstracts": scifact.documents.slice(0, 200).map((d) => d.text),
  "climate-fever sentences": climate.documents.slice(0, 400).map((d) => d.text),
};
const queries = climate.queries.slice(0, 200).map((q) => q.text);
console.log("| model | texts | texts/s | |\n| --- | --- | ---: | --- |");
for (const model of models) {
  const embedder = await createOnnxEmbedder({ modelDir: join("models", model), queryCacheSize: 0 });
  for (const [name, texts] of Object.entries(sets)) {
    const started = performance.now();
    for (let j = 0; j < texts.length; j += 32) await embedder.embed(texts.slice(j, j + 32), "document");
    const s = (performance.now() - started) / 1000;
    console.log(`| ${model} | ${name} (${texts.length}) | ${(texts.length / s).toFixed(1)} | documents, batches of 32 |`);
  }
  const started = performance.now();
  for (const q of queries) await embedder.embed([q], "query");
  const ms = (performance.now() - started) / queries.length;
  console.log(`| ${model} | climate-fever claims (${queries.length}) | ${(1000 / ms).toFixed(1)} | queries one at a time: ${ms.toFixed(1)} ms each |`);
  await embedder.close();
}
