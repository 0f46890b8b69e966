/**
 * Metrics across `bun run cluster`: every worker serves its own /metrics (Prometheus scrapes
 * each one; scripts/ops/prometheus-local.yml lists them), counting only its own requests.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { parseExposition } from "../metrics/exposition";

const dataDir = mkdtempSync(join(tmpdir(), "memory-api-cluster-metrics-"));
const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
const basePort = probe.port! + 1;
probe.stop(true);
const env = { ...process.env, MEMORY_MODE: "embedded", DATA_DIR: dataDir, JWT_SECRET: "", LOG_LEVEL: "info", CLUSTER_WORKERS: "2", CLUSTER_BASE_PORT: String(basePort) };
const supervisor = Bun.spawn([process.execPath, "run", "src/cluster.ts"], { env, stdout: "pipe", stderr: "pipe" });
let log = "";
const reading = (async () => {
  for await (const chunk of supervisor.stderr) log += new TextDecoder().decode(chunk);
})();

afterAll(async () => {
  supervisor.kill("SIGTERM");
  await supervisor.exited;
  await reading;
  rmSync(dataDir, { recursive: true, force: true });
});

async function scrape(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

const healthCount = (m: ReturnType<typeof parseExposition>) =>
  m.value("memory_api_http_request_duration_seconds_count", { method: "GET", route: "/health", status: "200" });

test("each worker's /metrics counts its own requests; Prometheus scrapes every worker", async () => {
  const deadline = Date.now() + 120_000;
  while (!log.includes("all 2 workers ready")) {
    if (Date.now() > deadline) throw new Error(`the cluster did not start; log:\n${log}`);
    await Bun.sleep(100);
  }
  for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${basePort}/health`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${basePort + 1}/health`)).status).toBe(200);
  await Bun.sleep(20); // onAfterResponse runs just after each answer is sent

  const [first, second] = [await scrape(basePort), await scrape(basePort + 1)];
  expect(healthCount(first)).toBe(3);
  expect(healthCount(second)).toBe(1);
  // two processes: their own process metrics
  expect(first.value("process_start_time_seconds")).toBeGreaterThan(0);
  expect(first.types.get("process_cpu_seconds_total")).toBe("counter");

  // the local Prometheus config lists one target per worker of the default cluster
  const defaults = loadConfig({ MEMORY_MODE: "embedded" }).cluster;
  const prometheus = Bun.YAML.parse(await Bun.file("scripts/ops/prometheus-local.yml").text()) as {
    scrape_configs: { static_configs: { targets: string[] }[] }[];
  };
  expect(prometheus.scrape_configs[0]!.static_configs[0]!.targets).toEqual([
    `127.0.0.1:${defaults.basePort}`,
    `127.0.0.1:${defaults.basePort + 1}`,
  ]);
}, 180_000);
