/**
 * Bounding the answer cache by bytes and sweeping expired entries (issue 18, item 2): what each
 * costs on the hit path (get) and on set with eviction, 10,000 entries, against the count-only
 * cache it replaced. Sweeping: lru-cache's `ttlAutopurge` (one timer per entry, re-armed on
 * every set) or `purgeStale()` from one unref'd interval timer (cost measured per sweep).
 *   bun run bench/experiments/cache-sweep.ts
 */
import { LRUCache } from "lru-cache";

const N = 10_000;
const OPS = 2_000_000;
const keys = Array.from({ length: N * 2 }, (_, i) => `k${i}:${"x".repeat(40)}`);
const value = "v".repeat(2000);
const sizeCalculation = (v: string, k: string) => 2 * (v.length + k.length) + 64;

const best = new Map<string, { get: number; set: number; sweep: number }>();

function run(name: string, cache: LRUCache<string, string>) {
  for (let i = 0; i < N; i++) cache.set(keys[i]!, value, { ttl: 300_000 });
  let t = performance.now();
  for (let i = 0; i < OPS; i++) cache.get(keys[i % N]!);
  const getNs = ((performance.now() - t) * 1e6) / OPS;
  t = performance.now();
  for (let i = 0; i < OPS / 4; i++) cache.set(keys[(i * 7) % (N * 2)]!, value, { ttl: 300_000 });
  const setNs = ((performance.now() - t) * 1e6) / (OPS / 4);
  t = performance.now();
  const sweeps = 100;
  for (let i = 0; i < sweeps; i++) cache.purgeStale();
  const sweepMs = (performance.now() - t) / sweeps;
  const b = best.get(name) ?? { get: Infinity, set: Infinity, sweep: Infinity };
  best.set(name, { get: Math.min(b.get, getNs), set: Math.min(b.set, setNs), sweep: Math.min(b.sweep, sweepMs) });
  cache.clear();
}

const ROUNDS = 5;
for (let round = 0; round < ROUNDS; round++) {
  console.log(`round ${round + 1} of ${ROUNDS}`);
  const variants: [string, () => LRUCache<string, string>][] = [
    ["count only (before)", () => new LRUCache<string, string>({ max: N })],
    ["bytes, swept by a timer", () => new LRUCache<string, string>({ max: N, maxSize: 64 * 1024 * 1024, sizeCalculation })],
    ["bytes, ttlAutopurge", () => new LRUCache<string, string>({ max: N, maxSize: 64 * 1024 * 1024, sizeCalculation, ttlAutopurge: true })],
  ];
  // each round starts with another variant, so none always runs first (cold)
  for (let i = 0; i < variants.length; i++) {
    const [name, make] = variants[(round + i) % variants.length]!;
    run(name, make());
  }
}
console.log("best of the rounds (a shared box: the minimum is the least disturbed):");
for (const [name, b] of best) {
  console.log(`${name.padEnd(26)} get hit ${b.get.toFixed(0)} ns/op, set with eviction ${b.set.toFixed(0)} ns/op, purgeStale over ${N} entries ${b.sweep.toFixed(2)} ms`);
}
