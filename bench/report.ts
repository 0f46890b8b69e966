/**
 * The bench's outputs: bench/results/<timestamp>.json (everything), latest.md (a table, the
 * targets met or missed, the method) and latest.svg (rps and p99 per scenario, hand-written SVG).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { ScenarioResult } from "./scenarios";

export const RESULTS_DIR = join(import.meta.dir, "results");

/** An ISO-8601 time as a file-name part (`2026-12-07T22-38-59-115Z`). */
export const fileStamp = (iso: string) => iso.replace(/[:.]/g, "-");

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** null: not measured in this run */
  met: boolean | null;
}

export interface RunReport {
  started_at: string;
  finished_at: string;
  quick: boolean;
  duration_per_scenario_s: number;
  machine: Record<string, unknown>;
  cluster: Record<string, unknown>;
  data: Record<string, unknown>;
  scenarios: ScenarioResult[];
  targets: Target[];
  /** Comparisons the issue asks to report that have no goal (e.g. the mix's hit rate with and without pre-warming). */
  findings?: Finding[];
  notes: string[];
}

export interface Finding {
  name: string;
  measured: string;
  values: Record<string, number | null>;
}

const by = (results: ScenarioResult[], name: string) => results.find((r) => r.name === name);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const fmt = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));

export function evaluateTargets(results: ScenarioResult[]): Target[] {
  const targets: Target[] = [];
  const cachedNginx = by(results, "search-cached-nginx");
  const helloNginx = by(results, "hello-nginx");
  targets.push({
    name: "cached search via nginx",
    goal: "≥ 70% of hello-nginx rps, p99 < 10 ms",
    measured:
      cachedNginx && helloNginx
        ? `${pct(cachedNginx.rps / helloNginx.rps)} of hello-nginx (${Math.round(cachedNginx.rps)} / ${Math.round(helloNginx.rps)} rps), p99 ${fmt(cachedNginx.latency_ms.p99, 2)} ms`
        : "not run",
    met: cachedNginx && helloNginx ? cachedNginx.rps >= 0.7 * helloNginx.rps && cachedNginx.latency_ms.p99 < 10 : null,
  });
  const cachedDirect = by(results, "search-cached-direct");
  const helloDirect = by(results, "hello-direct");
  targets.push({
    name: "cached search direct",
    goal: "≥ 60% of hello-direct rps",
    measured:
      cachedDirect && helloDirect
        ? `${pct(cachedDirect.rps / helloDirect.rps)} of hello-direct (${Math.round(cachedDirect.rps)} / ${Math.round(helloDirect.rps)} rps)`
        : "not run",
    met: cachedDirect && helloDirect ? cachedDirect.rps >= 0.6 * helloDirect.rps : null,
  });
  const fixed = by(results, "search-uncached-500rps");
  const maxUncached = by(results, "search-uncached-semantic");
  targets.push({
    name: "uncached semantic search",
    goal: "≥ 500 rps with p99 < 100 ms",
    measured: [
      fixed ? `at 500 req/s offered: ${Math.round(fixed.rps)} rps served, p99 ${fmt(fixed.latency_ms.p99)} ms` : null,
      maxUncached ? `max ${Math.round(maxUncached.rps)} rps at 100 connections (p99 ${fmt(maxUncached.latency_ms.p99)} ms)` : null,
    ]
      .filter(Boolean)
      .join("; ") || "not run",
    met: fixed
      ? fixed.rps >= 495 && fixed.latency_ms.p99 < 100 && fixed.non_2xx === 0
      : maxUncached
        ? maxUncached.rps >= 500 && maxUncached.latency_ms.p99 < 100
        : null,
  });
  const hybrid = by(results, "search-hybrid");
  const keyword = by(results, "search-keyword");
  targets.push({
    name: "hybrid and keyword against semantic",
    goal: "search-hybrid ≥ 80% of search-uncached-semantic rps; search-keyword ≥ 2× it",
    measured:
      maxUncached && (hybrid || keyword)
        ? [
            hybrid ? `hybrid ${pct(hybrid.rps / maxUncached.rps)} (${Math.round(hybrid.rps)} / ${Math.round(maxUncached.rps)} rps)` : null,
            keyword ? `keyword ${fmt(keyword.rps / maxUncached.rps, 2)}× (${Math.round(keyword.rps)} rps)` : null,
          ]
            .filter(Boolean)
            .join("; ")
        : "not run",
    met: maxUncached && hybrid && keyword ? hybrid.rps >= 0.8 * maxUncached.rps && keyword.rps >= 2 * maxUncached.rps : null,
  });
  const lowLoad = (["semantic", "keyword", "hybrid"] as const).map((type) => [type, by(results, `low-load-${type}`)] as const);
  const lowRun = lowLoad.filter(([, r]) => r !== undefined);
  targets.push({
    name: "low load, uncached",
    goal: "p95 < 20 ms for semantic, keyword and hybrid (1 connection)",
    measured: lowRun.length
      ? lowRun.map(([type, r]) => `${type} p50 ${fmt(r!.latency_ms.p50, 2)} / p95 ${fmt(r!.latency_ms.p95, 2)} ms`).join("; ")
      : "not run",
    met: lowRun.length === 3 ? lowRun.every(([, r]) => r!.latency_ms.p95 < 20 && r!.non_2xx === 0) : null,
  });
  const at100 = results.filter((r) => r.connections === 100);
  const bad100 = at100.filter((r) => r.non_2xx > 0 || r.error_count > 0);
  targets.push({
    name: "no errors at 100 connections",
    goal: "zero non-2xx (and no transport errors) in every 100-connection scenario",
    measured: at100.length
      ? bad100.length === 0
        ? `0 non-2xx, 0 errors in ${at100.length} scenarios`
        : bad100.map((r) => `${r.name}: ${r.non_2xx} non-2xx, ${r.error_count} errors`).join("; ")
      : "not run",
    met: at100.length ? bad100.length === 0 : null,
  });
  const overload = by(results, "overload-1000");
  const unexpected = overload ? Object.entries(overload.status).filter(([c]) => !["200", "429", "503"].includes(c)) : [];
  targets.push({
    name: "1,000 connections",
    goal: "only 200/429/503, no timeouts or resets",
    measured: overload
      ? `${Object.entries(overload.status).map(([c, n]) => `${n}× ${c}`).join(", ") || "no answers"}; ${overload.error_count} errors${overload.error_count ? ` (${Object.keys(overload.errors).join("; ")})` : ""}`
      : "not run",
    met: overload ? unexpected.length === 0 && overload.error_count === 0 && overload.requests > 0 : null,
  });
  const rerankLow = by(results, "rerank-low");
  const rerankedShare = rerankLow?.extra?.reranked_share as number | null | undefined;
  targets.push({
    name: "rerank at low concurrency",
    goal: "p95 < 150 ms (2 connections, 50 candidates)",
    measured: rerankLow
      ? `p95 ${fmt(rerankLow.latency_ms.p95)} ms, ${Math.round(rerankLow.rps)} rps, ${rerankedShare === null || rerankedShare === undefined ? "?" : pct(rerankedShare)} reranked`
      : "not run",
    met: rerankLow ? rerankLow.latency_ms.p95 < 150 && rerankLow.non_2xx === 0 && (rerankedShare ?? 0) > 0.99 : null,
  });
  const iso = by(results, "isolation-with-rerank");
  const rise = iso?.extra?.p99_rise as number | null | undefined;
  const riseText = (r: ScenarioResult) => {
    const x = r.extra!.p99_rise as number;
    return `p99 ${fmt(r.extra!.p99_alone_ms as number, 2)} → ${fmt(r.extra!.p99_with_rerank_ms as number, 2)} ms (${x >= 0 ? "+" : ""}${(100 * x).toFixed(0)}%)`;
  };
  const control = by(results, "isolation-no-inference-with-rerank");
  const controlRise = control?.extra?.p99_rise as number | null | undefined;
  targets.push({
    name: "tier isolation",
    goal: "free-tier p99 rises < 20% beside a premium rerank load",
    measured:
      iso && rise !== undefined && rise !== null
        ? riseText(iso) +
          (control && controlRise !== undefined && controlRise !== null
            ? `; the same premium load with no inference (no reranker): ${riseText(control)}`
            : "")
        : "not run",
    met: iso && rise !== undefined && rise !== null ? rise < 0.2 : null,
  });
  const mix = by(results, "mix-90-10");
  const mixSearch = mix?.extra?.search as { p95_ms?: number } | undefined;
  const mixWrite = mix?.extra?.write as { p99_ms?: number } | undefined;
  const mixHit = mix?.extra?.cache_hit_rate as number | null | undefined;
  targets.push({
    name: "90/10 mix",
    goal: "≥ 1,000 rps at 100 connections; search p95 < 50 ms; write p99 < 250 ms; ≥ 80% of searches answered from the cache",
    measured: mix
      ? `${Math.round(mix.rps)} rps; search p95 ${fmt(mixSearch?.p95_ms)} ms; write p99 ${fmt(mixWrite?.p99_ms)} ms; ${mixHit === null || mixHit === undefined ? "?" : pct(mixHit)} cached (stored or rolled forward)`
      : "not run",
    met: mix ? mix.rps >= 1000 && (mixSearch?.p95_ms ?? Infinity) < 50 && (mixWrite?.p99_ms ?? Infinity) < 250 && (mixHit ?? 0) >= 0.8 : null,
  });
  const ingest = by(results, "ingest");
  const share = ingest?.extra?.share_of_raw as number | undefined;
  targets.push({
    name: "ingest",
    goal: "≥ 80% of the raw embedder's throughput on the same texts",
    measured: ingest && share !== undefined ? `${pct(share)} (${ingest.extra!.api_memories_per_s} memories/s vs ${ingest.extra!.raw_texts_per_s} texts/s)` : "not run",
    met: ingest && share !== undefined ? share >= 0.8 : null,
  });
  const ryw = by(results, "read-your-writes")?.extra?.read_your_writes as { total_checks: number; total_misses: number } | undefined;
  targets.push({
    name: "read-your-writes during the mix",
    goal: "0 misses, every search type",
    measured: ryw ? `${ryw.total_misses} misses in ${ryw.total_checks} checks` : "not run",
    met: ryw ? ryw.total_misses === 0 && ryw.total_checks > 0 : null,
  });
  return targets;
}

const hitRate = (r: ScenarioResult | undefined) => (r ? ((r.extra?.cache_hit_rate as number | null | undefined) ?? null) : undefined);
const pct1 = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : `${(100 * x).toFixed(1)}%`);

export function evaluateFindings(results: ScenarioResult[]): Finding[] {
  const findings: Finding[] = [];
  const withIt = by(results, "mix-90-10");
  const without = by(results, "mix-90-10-no-prewarm");
  if (withIt || without) {
    const a = hitRate(withIt);
    const b = hitRate(without);
    findings.push({
      name: "90/10 mix cache hit rate",
      measured:
        `${withIt ? pct1(a) : "not run"} with popularity TTL + pre-warming, ${without ? pct1(b) : "not run"} without` +
        (withIt && without ? ` (searches ${Math.round(searchRps(withIt))}/s vs. ${Math.round(searchRps(without))}/s)` : ""),
      values: { with_prewarm: a ?? null, without_prewarm: b ?? null },
    });
  }
  return findings;
}

function searchRps(r: ScenarioResult): number {
  return ((r.extra?.search as { rps?: number } | undefined)?.rps ?? 0);
}

function statusText(r: ScenarioResult): string {
  const parts = Object.entries(r.status).map(([c, n]) => `${c}:${n}`);
  if (r.error_count) parts.push(`err:${r.error_count}`);
  return parts.join(" ");
}

export function markdown(report: RunReport, chart = "latest.svg"): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`# Memory API bench — ${report.started_at}${report.quick ? " (quick)" : ""}`);
  lines.push("");
  lines.push(
    `${m.cpus} × ${m.cpu_model}, ${m.memory_gib} GiB; Bun ${m.bun}, nginx ${m.nginx}, ${m.oha ?? "oha not used"}. ` +
      `Load average at start: ${(m.load_average_at_start as number[]).join(", ")}; background CPU before the run: ${String(m.background_cores ?? "?")} cores. ` +
      `${report.duration_per_scenario_s} s per scenario. Cluster: ${report.cluster.workers} workers, ${report.cluster.mode} mode` +
      `${report.cluster.milvus_replicas === undefined ? "" : `, Milvus replicas ${String(report.cluster.milvus_replicas)}`}. ` +
      `Data: ${Number(report.data.memories).toLocaleString("en-US")} memories (${String(report.data.how)}).`,
  );
  lines.push("");
  lines.push("| scenario | tool | conns | rps | p50 ms | p95 ms | p99 ms | max ms | statuses | vs baseline | CPU busy (client) |");
  lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
  for (const r of report.scenarios) {
    const conns = r.qps ? `${r.connections} @${r.qps}/s` : String(r.connections);
    const ratio = r.ratio_to_baseline !== undefined ? `${pct(r.ratio_to_baseline)} of ${r.baseline}` : "";
    const cpu = `${pct(r.machine_cpu_busy)}${r.client_cpu_cores !== undefined ? ` (${r.client_cpu_cores.toFixed(2)} cores)` : ""}`;
    lines.push(
      `| ${r.name} | ${r.tool} | ${conns} | ${Math.round(r.rps).toLocaleString("en-US")} | ${fmt(r.latency_ms.p50, 2)} | ${fmt(r.latency_ms.p95, 2)} | ` +
        `${fmt(r.latency_ms.p99, 2)} | ${fmt(r.latency_ms.max, 1)} | ${statusText(r)} | ${ratio} | ${cpu} |`,
    );
  }
  lines.push("");
  lines.push("## Where the CPU went (cores used on average during each run; the box has " + String(m.cpus) + ")");
  lines.push("");
  const roles = ["api", "nginx", "redis", "postgres", "milvus", "neo4j", "hello", "client", "bench", "other", "unattributed"] as const;
  const used = roles.filter((role) => report.scenarios.some((r) => (r.cpu_cores?.[role] ?? 0) >= 0.01));
  lines.push(`| scenario | busy | ${used.join(" | ")} | biggest user |`);
  lines.push(`| --- | ---: | ${used.map(() => "---:").join(" | ")} | --- |`);
  for (const r of report.scenarios) {
    const top = roles
      .filter((role) => role !== "unattributed")
      .map((role) => [role, r.cpu_cores?.[role] ?? 0] as const)
      .sort((a, b) => b[1] - a[1])[0];
    lines.push(
      `| ${r.name} | ${pct(r.machine_cpu_busy)} | ${used.map((role) => fmt(r.cpu_cores?.[role] ?? 0, 2)).join(" | ")} | ${top && top[1] > 0 ? top[0] : ""} |`,
    );
  }
  lines.push("");
  lines.push(
    "api = the cluster's worker processes (Elysia, JWT, Redis/PostgreSQL/Milvus clients, the ONNX embedder and reranker threads); " +
      "client = the load generator (oha or bench/loader.ts); other = processes the bench did not start (e.g. someone's tests); " +
      "unattributed = busy time no live process accounts for (short-lived processes, kernel softirq of loopback traffic).",
  );
  lines.push("");
  lines.push("## Targets (reported, not asserted)");
  lines.push("");
  lines.push("| target | goal | measured | |");
  lines.push("| --- | --- | --- | --- |");
  for (const t of report.targets) lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? "not run" : t.met ? "✅ met" : "❌ missed"} |`);
  lines.push("");
  if (report.findings?.length) {
    lines.push("## Findings");
    lines.push("");
    for (const f of report.findings) lines.push(`- ${f.name}: ${f.measured}.`);
    lines.push("");
  }
  lines.push("## Scenario notes");
  lines.push("");
  for (const r of report.scenarios) {
    lines.push(`- **${r.name}** — ${r.title}.${r.notes.length ? " " + r.notes.join("; ") + "." : ""}`);
  }
  if (report.notes.length) {
    lines.push("");
    lines.push("## Method and limits");
    lines.push("");
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  lines.push("");
  lines.push(`![rps and p99 per scenario](${chart})`);
  lines.push("");
  return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Two bar panels per scenario row, both log scale (the figures span 5 decades): rps and p99. */
export function svg(report: RunReport): string {
  const rows = report.scenarios;
  const rowH = 26;
  const top = 62;
  const labelW = 210;
  const panelW = 320;
  const gap = 90;
  const width = labelW + 2 * panelW + gap + 70;
  const height = top + rows.length * rowH + 44;
  const logScale = (min: number, max: number) => (v: number) =>
    Math.max(0, Math.min(1, (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)))) * panelW;
  const rpsX = logScale(1, 100_000);
  const p99X = logScale(0.1, 10_000);
  const x1 = labelW;
  const x2 = labelW + panelW + gap;
  const r1 = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="15" font-weight="bold">Memory API bench — ${esc(report.started_at)}${report.quick ? " (quick)" : ""}</text>`);
  out.push(`<text x="${x1}" y="48" font-weight="bold">requests/s (log scale)</text>`);
  out.push(`<text x="${x2}" y="48" font-weight="bold">p99 latency, ms (log scale)</text>`);
  const grid = (x0: number, scale: (v: number) => number, ticks: number[], label: (v: number) => string) => {
    for (const t of ticks) {
      const x = r1(x0 + scale(t));
      out.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + rows.length * rowH}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${x}" y="${top + rows.length * rowH + 14}" text-anchor="middle" fill="#666">${label(t)}</text>`);
    }
  };
  grid(x1, rpsX, [1, 10, 100, 1000, 10_000, 100_000], (t) => (t >= 1000 ? `${t / 1000}k` : String(t)));
  grid(x2, p99X, [0.1, 1, 10, 100, 1000, 10_000], (t) => (t >= 1 ? String(t) : t.toFixed(1)));
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const bad = r.non_2xx > 0 || r.error_count > 0;
    const baseline = r.name.startsWith("hello-");
    out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.name)}</text>`);
    const w = Math.max(1, rpsX(r.rps));
    out.push(`<rect x="${x1}" y="${y + 4}" width="${r1(w)}" height="${rowH - 10}" fill="${baseline ? "#9aa7b8" : "#3b82f6"}"/>`);
    out.push(`<text x="${r1(x1 + w + 4)}" y="${y + 15}" fill="#333">${Math.round(r.rps).toLocaleString("en-US")}</text>`);
    const pw = Math.max(1, p99X(r.latency_ms.p99));
    out.push(`<rect x="${x2}" y="${y + 4}" width="${r1(pw)}" height="${rowH - 10}" fill="${bad ? "#ef4444" : baseline ? "#9aa7b8" : "#f59e0b"}"/>`);
    out.push(`<text x="${r1(x2 + pw + 4)}" y="${y + 15}" fill="#333">${fmt(r.latency_ms.p99, r.latency_ms.p99 < 10 ? 2 : 0)}</text>`);
  });
  out.push(`<text x="12" y="${height - 8}" fill="#666">grey: hello baselines; red p99 bar: the scenario had non-2xx answers or transport errors</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/**
 * Writes the run's JSON, and its markdown and chart: as `latest.*` for a run of every scenario,
 * beside the JSON (`<timestamp>.md/.svg`) for a run of some, so that a partial run never
 * replaces the full table the README quotes.
 */
export function writeReport(report: RunReport, opts: { latest: boolean }): { json: string; md: string; svg: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = fileStamp(report.started_at);
  const base = opts.latest ? "latest" : stamp;
  const paths = {
    json: join(RESULTS_DIR, `${stamp}.json`),
    md: join(RESULTS_DIR, `${base}.md`),
    svg: join(RESULTS_DIR, `${base}.svg`),
  };
  const write = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  write(paths.json, JSON.stringify(report, null, 2) + "\n");
  write(paths.md, markdown(report, basename(paths.svg)));
  write(paths.svg, svg(report));
  return paths;
}
