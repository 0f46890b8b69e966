/**
 * The observability files of scripts/ops: Prometheus config and alert rules checked by
 * promtool (and the rules' own unit tests run), the Grafana dashboard and the alerts refer only
 * to metrics the service really exposes, and compose.yaml runs both with pinned images.
 * promtool comes from Debian's `prometheus` package (scripts/ops/promtool.ts, cached under
 * .stack/); it must be there when MEMORY_TEST_PRODUCTION=required (CI), else the promtool
 * checks are skipped with a notice.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createMetrics } from "../../src/metrics/metrics";

const ROOT = resolve(import.meta.dir, "../..");
const OPS = join(ROOT, "scripts/ops");
const read = (path: string) => Bun.file(join(ROOT, path)).text();

function promtool(): string | null {
  try {
    const { ensurePromtool } = require("../../scripts/ops/promtool.ts") as typeof import("../../scripts/ops/promtool.ts");
    return ensurePromtool();
  } catch (error) {
    if (process.env.MEMORY_TEST_PRODUCTION === "required") throw error;
    console.warn(`SKIPPED promtool checks: ${(error as Error).message}`);
    return null;
  }
}

function run(binary: string, args: string[]): { code: number; out: string } {
  const proc = Bun.spawnSync([binary, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode ?? 1, out: proc.stdout.toString() + proc.stderr.toString() };
}

describe("promtool", () => {
  const binary = promtool();
  const maybe = binary ? test : test.skip;

  maybe("check config: both Prometheus configs, with their rule files", () => {
    const result = run(binary!, ["check", "config", "scripts/ops/prometheus.yml", "scripts/ops/prometheus-local.yml"]);
    expect(result.out).toContain("SUCCESS: scripts/ops/prometheus.yml is valid");
    expect(result.out).toContain("SUCCESS: scripts/ops/prometheus-local.yml is valid");
    expect(result.code).toBe(0);
  });

  maybe("check rules: the alert rules", () => {
    const result = run(binary!, ["check", "rules", "scripts/ops/alerts.yml"]);
    expect(result.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  maybe("test rules: every alert fires on its condition and not on healthy series", () => {
    const result = run(binary!, ["test", "rules", "scripts/ops/alerts.test.yml"]);
    expect(result.out).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });
});

/** Metric families the service exposes (process metrics included, as in the server). */
async function exposedFamilies(): Promise<Set<string>> {
  const metrics = createMetrics({ processMetrics: true });
  return new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
}

/** memory_api_* names used in PromQL, histogram series reduced to their family. */
function referencedFamilies(promql: string[]): Set<string> {
  const names = new Set<string>();
  for (const expr of promql) {
    for (const [name] of expr.matchAll(/\bmemory_api_[a-z0-9_]+/g)) names.add(name.replace(/_(bucket|count|sum)$/, ""));
  }
  return names;
}

describe("the dashboard and the alerts use the metrics the service exposes", () => {
  test("every metric of the dashboard exists, and the dashboard shows what operators need", async () => {
    const dashboard = JSON.parse(await read("scripts/ops/grafana/dashboards/memory-api.json"));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
    const exposed = await exposedFamilies();
    const used = referencedFamilies(exprs);
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    const allExprs = exprs.join("\n");
    for (const needle of ["histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,", 'status=~"5.."',
      "memory_api_search_cache_hits_total", "memory_api_pg_pool_waiting", "memory_api_embedder_queue_depth",
      "memory_api_reranker_queue_depth", "memory_api_outbox_backlog", "memory_api_rate_limit_rejections_total"]) {
      expect(allExprs).toContain(needle);
    }
    // the panels' datasource is the provisioned one
    const datasource = Bun.YAML.parse(await read("scripts/ops/grafana/provisioning/datasources/prometheus.yml")) as {
      datasources: { uid: string; url: string }[];
    };
    const uids = new Set(dashboard.panels.map((p: { datasource: { uid: string } }) => p.datasource.uid));
    expect([...uids]).toEqual([datasource.datasources[0]!.uid]);
    expect(datasource.datasources[0]!.url).toBe("http://prometheus:9090");
  });

  test("every metric of the alert rules exists", async () => {
    const rules = Bun.YAML.parse(await read("scripts/ops/alerts.yml")) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const all = rules.groups.flatMap((g) => g.rules);
    const exposed = await exposedFamilies();
    expect([...referencedFamilies(all.map((r) => r.expr))].filter((name) => !exposed.has(name))).toEqual([]);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "MemoryApiHighLatencyP95",
        "MemoryApiHighErrorRate",
        "MemoryApiCacheHitRateFalling",
        "MemoryApiPgPoolSaturated",
        "MemoryApiEmbedderQueueSaturated",
        "MemoryApiOutboxBacklogGrowing",
      ]),
    );
  });
});

describe("compose.yaml", () => {
  test("runs Prometheus and Grafana with pinned images and the repository's config files", async () => {
    const compose = Bun.YAML.parse(await read("compose.yaml")) as {
      services: Record<string, { image: string; volumes?: string[] }>;
      volumes: Record<string, unknown>;
    };
    for (const name of ["prometheus", "grafana"]) {
      const service = compose.services[name]!;
      expect(service.image).toMatch(/:v?\d+\.\d+\.\d+$/);
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(":");
        if (source!.startsWith("./")) expect(existsSync(join(ROOT, source!))).toBe(true);
        else expect(compose.volumes).toHaveProperty(source!);
      }
    }
    const scrape = Bun.YAML.parse(await read("scripts/ops/prometheus.yml")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    // scraped directly, not through nginx (which would pick one worker per scrape)
    expect(scrape.scrape_configs[0]!.static_configs[0]!.targets).toEqual(["api:8000"]);
    expect(existsSync(join(OPS, "grafana/provisioning/dashboards/memory-api.yml"))).toBe(true);
  });
});
