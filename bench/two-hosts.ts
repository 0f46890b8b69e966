/**
 * Two hosts simulated on this box: host a is the bench's cluster behind the stack's nginx, host
 * b a second worker group behind its own nginx; both share one set of engines, with Redis as a
 * three-master Redis Cluster (REDIS_CLUSTER_NODES). Measured in one run:
 * - the 90/10 mix through host a alone (100 connections), then through both at once (50 each);
 * - read-your-writes across hosts during the two-host mix: writers write through one host and
 *   search through the other at once, by every search type;
 * - one rate-limit budget across hosts: a starter token spends its budget through both hosts
 *   at once, and what passes is counted against the budget plus what refilled meanwhile.
 * On one 2-core box the two groups share the same cores, so "together" cannot be faster than one
 * host here; what this shows is that the deployment shape works (shared cache and budgets,
 * cross-host consistency) and what it costs, not how it scales.
 */
import type { Config } from "../src/config";
import { redisTopologiesIn } from "../scripts/stack/connections.ts";
import { mergeLoads } from "./oha";
import { auth, loaderMeasured, mixSources, RYW_TYPES, rywWriter, toResult, type Ctx, type RywCounts, type ScenarioResult } from "./scenarios";

const HOST_B_PORTS = [8011, 8012];
const HOST_B_NGINX_PORT = 8100;
/** the starter tier's budget in this scenario: small enough to spend in a second or two */
export const TWO_HOST_STARTER_PER_MINUTE = 600;

export const twoHostsClusterEnv = (_base: Config): Record<string, string> => ({
  REDIS_CLUSTER_NODES: redisTopologiesIn(process.env).STACK_REDIS_CLUSTER_NODES,
  RATE_LIMIT_STARTER: String(TWO_HOST_STARTER_PER_MINUTE),
});

/** Spends one starter token's budget through both hosts at once (32 in flight); counts what passed. */
async function globalBudget(ctx: Ctx, hosts: string[]): Promise<{ sent: number; allowed: number; refused: number; other: number; seconds: number; bound: number }> {
  const token = await ctx.mintToken(`two-hosts-budget-${ctx.runSeed}`, "starter");
  const sent = TWO_HOST_STARTER_PER_MINUTE * 3;
  let next = 0;
  const counts = { allowed: 0, refused: 0, other: 0 };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < sent; i = next++) {
        const res = await fetch(`${hosts[i % hosts.length]}/v1/collections?limit=1`, { headers: auth(token) });
        await res.arrayBuffer();
        if (res.status === 200) counts.allowed++;
        else if (res.status === 429) counts.refused++;
        else counts.other++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  // GCRA: the whole budget at once, then one request every 60/limit s
  const bound = TWO_HOST_STARTER_PER_MINUTE + Math.ceil((seconds * TWO_HOST_STARTER_PER_MINUTE) / 60);
  return { sent, ...counts, seconds, bound };
}

export async function twoHostsScenario(ctx: Ctx, name: string, title: string): Promise<ScenarioResult[]> {
  const hostA = ctx.urls.nginx;
  const groupB = await ctx.startHostGroup(HOST_B_PORTS, HOST_B_NGINX_PORT);
  const hostB = groupB.url;
  try {
    // warm-up through both hosts (the workers of host b have served nothing yet)
    await loaderMeasured(ctx, [...mixSources(ctx, hostA), ...mixSources(ctx, hostB).map((s) => ({ ...s, name: `${s.name}-b` }))], 50, Math.max(2, ctx.warmupSeconds));

    const alone = await loaderMeasured(ctx, mixSources(ctx, hostA), 100);

    const zero = () => ({ semantic: 0, keyword: 0, hybrid: 0, graph: 0, "semantic-after-delete": 0 });
    const ryw: RywCounts = { rounds: 0, checks: zero(), misses: zero(), errors: 0, examples: [] };
    const stop = { done: false };
    const writers = [
      rywWriter(ctx, 0, stop, ryw, { write: hostA, search: hostB }),
      rywWriter(ctx, 1, stop, ryw, { write: hostB, search: hostA }),
      rywWriter(ctx, 2, stop, ryw, { write: hostA, search: hostB }),
      rywWriter(ctx, 3, stop, ryw, { write: hostB, search: hostA }),
    ];
    let both: Awaited<ReturnType<typeof loaderMeasured>>[];
    try {
      both = await Promise.all([loaderMeasured(ctx, mixSources(ctx, hostA), 50), loaderMeasured(ctx, mixSources(ctx, hostB), 50)]);
    } finally {
      stop.done = true;
      await Promise.all(writers);
    }
    const budget = await globalBudget(ctx, [hostA, hostB]);

    const a = toResult(`${name}-one-host`, "the 90/10 mix through host a alone (baseline of this scenario)", `${hostA}/v1/search + /memories`, 100, alone.load, alone.cpu);
    const [onA, onB] = both;
    // percentiles: the slower host's (mergeLoads says why)
    const merged = mergeLoads([onA!.load, onB!.load]);
    const rps = merged.rps;
    const together = toResult(name, title, `${hostA} + ${hostB}`, 100, merged, onA!.cpu);
    together.baseline = a.name;
    together.ratio_to_baseline = a.rps > 0 ? Math.round((rps / a.rps) * 1000) / 1000 : undefined;
    const checks = Object.values(ryw.checks).reduce((x, y) => x + y, 0);
    const misses = Object.values(ryw.misses).reduce((x, y) => x + y, 0);
    together.extra = {
      per_host_rps: { a: onA!.load.rps, b: onB!.load.rps },
      per_host_p99_ms: { a: onA!.load.latencyMs.p99, b: onB!.load.latencyMs.p99 },
      read_your_writes_across_hosts: { ...ryw, total_checks: checks, total_misses: misses, types: RYW_TYPES },
      global_rate_limit: budget,
      redis: "cluster (three masters)",
    };
    together.notes.push(
      `both hosts ${Math.round(rps)} req/s (a ${Math.round(onA!.load.rps)}, b ${Math.round(onB!.load.rps)}) vs host a alone ${Math.round(a.rps)} req/s, on the same 2 cores; p99 a ${onA!.load.latencyMs.p99.toFixed(1)} ms, b ${onB!.load.latencyMs.p99.toFixed(1)} ms`,
      `read-your-writes across hosts (write through one, search through the other at once; semantic, keyword, hybrid, graph, and semantic after delete): ${checks} checks, ${misses} misses, ${ryw.errors} errors` +
        (ryw.examples.length > 0 ? `; e.g. ${ryw.examples.join("; ")}` : ""),
      `one rate-limit budget across hosts: a starter token (${TWO_HOST_STARTER_PER_MINUTE}/min) sent ${budget.sent} requests through both hosts in ${budget.seconds.toFixed(1)} s: ${budget.allowed} passed (bound: budget + refill = ${budget.bound}; two separate budgets would pass about ${2 * TWO_HOST_STARTER_PER_MINUTE}), ${budget.refused} refused 429` +
        (budget.other ? `, ${budget.other} other` : ""),
    );
    return [a, together];
  } finally {
    await groupB.stop();
  }
}
