/**
 * The in-process answer cache's hot path with lru-cache against the hand-written Map LRU it
 * replaced: get hits (the cached-search path) and set with eviction, on 10,000 entries.
 *   bun run bench/experiments/lru-cache.ts
 */
import { LRUCache } from "lru-cache";

const N = 10_000;
const OPS = 2_000_000;
const keys = Array.from({ length: N * 2 }, (_, i) => `k${i}:${"x".repeat(40)}`);

class MapLru {
  private readonly m = new Map<string, { value: string; expiresAt: number }>();
  get(k: string): string | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) { this.m.delete(k); return undefined; }
    this.m.delete(k); this.m.set(k, e);
    return e.value;
  }
  set(k: string, value: string, ttlMs: number): void {
    this.m.delete(k);
    this.m.set(k, { value, expiresAt: Date.now() + ttlMs });
    while (this.m.size > N) this.m.delete(this.m.keys().next().value!);
  }
}

function run(name: string, get: (k: string) => unknown, set: (k: string, v: string) => void) {
  for (let i = 0; i < N; i++) set(keys[i]!, "v");
  let t = performance.now();
  for (let i = 0; i < OPS; i++) get(keys[i % N]!);
  const getNs = ((performance.now() - t) * 1e6) / OPS;
  t = performance.now();
  for (let i = 0; i < OPS / 4; i++) set(keys[(i * 7) % (N * 2)]!, "v");
  const setNs = ((performance.now() - t) * 1e6) / (OPS / 4);
  console.log(`${name.padEnd(10)} get hit ${getNs.toFixed(0)} ns/op, set with eviction ${setNs.toFixed(0)} ns/op`);
}

for (let round = 0; round < 2; round++) {
  const lib = new LRUCache<string, string>({ max: N, ttl: 300_000, ttlAutopurge: false });
  run("lru-cache", (k) => lib.get(k), (k, v) => lib.set(k, v));
  const map = new MapLru();
  run("Map LRU", (k) => map.get(k), (k, v) => map.set(k, v, 300_000));
}
