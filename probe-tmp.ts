import { Index, MetricKind, ScalarKind } from "usearch";
const d = 384, n = Number(process.argv[2] ?? 20000);
let s = 12345; const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296 - 0.5; };
const centres = Array.from({ length: 200 }, () => Float32Array.from({ length: d }, rnd));
const data = new Float32Array(n * d);
for (let i = 0; i < n; i++) { const c = centres[i % 200]!; let norm = 0; for (let j = 0; j < d; j++) { const x = c[j]! + 0.6 * rnd(); data[i * d + j] = x; norm += x * x; } norm = Math.sqrt(norm); for (let j = 0; j < d; j++) data[i * d + j]! /= norm; }
const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1));
const queries = Array.from({ length: 200 }, (_, q) => data.slice(((q * 97) % n) * d, ((q * 97) % n) * d + d).map((x) => x + 0.02 * rnd()));
// exact
const truth = queries.map((q) => { const sc = new Float32Array(n); for (let i = 0; i < n; i++) { let dot = 0; for (let j = 0; j < d; j++) dot += q[j]! * data[i * d + j]!; sc[i] = dot; } return new Set(Array.from(sc.keys()).sort((a, b) => sc[b]! - sc[a]!).slice(0, 10).map((i) => BigInt(i + 1))); });
for (const [conn, ea, threads, quant] of [[16, 128, 2, "f16"], [16, 64, 2, "f16"], [16, 64, 1, "f16"], [16, 64, 2, "f32"], [12, 48, 2, "f16"]] as const) {
  const idx = new Index({ dimensions: d, metric: MetricKind.Cos, quantization: quant === "f16" ? ScalarKind.F16 : ScalarKind.F32, connectivity: conn, expansion_add: ea, expansion_search: 64 });
  const t0 = performance.now();
  const B = 4096;
  for (let i = 0; i < n; i += B) idx.add(keys.subarray(i, Math.min(n, i + B)), data.subarray(i * d, Math.min(n, i + B) * d), threads);
  const build = performance.now() - t0;
  for (const ef of [64]) {
    let hit = 0; const t1 = performance.now();
    for (let q = 0; q < queries.length; q++) { const r = idx.search(queries[q]!, 10, 1); for (const k of r.keys) if (truth[q]!.has(k)) hit++; }
    const per = (performance.now() - t1) / queries.length;
    console.log(JSON.stringify({ n, conn, ea, threads, quant, build_s: +(build / 1000).toFixed(1), recall10: hit / (queries.length * 10), search_ms: +per.toFixed(3) }));
  }
}
