/**
 * Where the embedded ANN index starts to pay (EMBEDDED_ANN_MIN_ROWS): one collection grown to
 * each size, the same queries through the exact scan (vec0) and through the ANN path (graph +
 * exact rescoring in SQLite), on the main connection, per search; and the build time per row.
 * Generated clustered 384-d unit vectors (the store's behaviour, not a model's).
 *   bun run bench/experiments/embedded-ann-threshold.ts [--sizes 500,1000,2000,5000,10000,20000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MATCH_ALL } from "../../src/domain/search.ts";
import { openEmbeddedStores } from "../../src/stores/embedded/index.ts";
import { randomUnit } from "../../test/ports/vectors.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "500,1000,2000,5000,10000,20000" } } });
const sizes = values.sizes!.split(",").map(Number);
const D = 384;
const QUERIES = 200;
const dir = mkdtempSync(join(tmpdir(), "ann-threshold-"));

function member(centre: Float32Array, seed: number): Float32Array {
  const noise = randomUnit(D, seed);
  const v = centre.map((x, j) => x + 0.7 * noise[j]!);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
const centres = Array.from({ length: 200 }, (_, c) => randomUnit(D, 1000 + c));
const queries = Array.from({ length: QUERIES }, (_, q) => member(centres[q % 200]!, 9_000_000 + q));

const path = join(dir, "t.db");
const exact = openEmbeddedStores({ path, dimensions: D });
const c = await exact.collections.create("u", { name: "threshold", description: null });
let n = 0;
console.log("| rows | exact scan ms/search | ANN ms/search | ANN build s (ms/row) |");
console.log("| --- | --- | --- | --- |");
for (const size of sizes) {
  while (n < size) {
    const batch = Array.from({ length: Math.min(1000, size - n) }, (_, i) => ({ id: `m${n + i}`, content: "x", metadata: {}, embedding: member(centres[(n + i) % 200]!, n + i) }));
    await exact.memories.upsert(c.id, batch);
    n += batch.length;
  }
  const time = async (search: (q: Float32Array) => Promise<unknown>) => {
    for (const q of queries.slice(0, 20)) await search(q);
    const t = performance.now();
    for (const q of queries) await search(q);
    return (performance.now() - t) / QUERIES;
  };
  const exactMs = await time((q) => exact.vectors.search(c.id, q, 10, MATCH_ALL));
  const ann = openEmbeddedStores({ path, dimensions: D, ann: { minRows: 1 } });
  const t = performance.now();
  await ann.warmAnn();
  const buildS = (performance.now() - t) / 1000;
  const annMs = await time((q) => ann.vectors.search(c.id, q, 10, MATCH_ALL));
  ann.close();
  rmSync(`${path}.ann`, { recursive: true, force: true });
  console.log(`| ${size} | ${exactMs.toFixed(2)} | ${annMs.toFixed(2)} | ${buildS.toFixed(1)} (${((buildS * 1000) / size).toFixed(2)}) |`);
}
exact.close();
rmSync(dir, { recursive: true, force: true });
