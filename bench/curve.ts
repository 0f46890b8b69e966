/**
 * `bun run bench:curve`: what a search costs as the collection grows, in the embedded default.
 * For each size, `bench/embedded.ts --compare none` (one `bun run start` process, cache off,
 * unique queries, the ANN index ready) measures each search type at 1 connection (p50/p95: the
 * latency of one request on an idle service) and at `--connections` (req/s). The data of each
 * size is generated through the API with progress and kept under `.stack/bench-embedded/<size>/`
 * for the next run (an interrupted ingest resumes).
 *
 *   bun run bench:curve [--sizes 10000,100000,1000000] [--types semantic,keyword,hybrid]
 *                       [--duration 15] [--connections 100]
 *
 * Results: `bench/results/curve-<timestamp>.json` and `bench/results/curve-latest.md`, a table and
 * a chart of p95 against size (for other sizes than the default: `curve-<timestamp>.md`). Expect
 * about 30 minutes of ingest for 1,000,000 memories on a 2-core box, the index build on top, and
 * about 7 GB of disk.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./oha";
import { positiveArg as positive } from "./cli-args";
import { fileStamp, RESULTS_DIR } from "./report";

const DEFAULT_SIZES = "10000,100000,1000000";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: DEFAULT_SIZES },
    types: { type: "string", default: "semantic,keyword,hybrid" },
    duration: { type: "string", default: "15" },
    connections: { type: "string", default: "100" },
  },
});

const SIZES = args.sizes!.split(",").map((size) => positive("sizes", size.trim()));
const TYPES = args.types!.split(",").map((type) => type.trim());
const CONNECTIONS = positive("connections", args.connections!);
positive("duration", args.duration!);

/** What bench/embedded.ts writes with --out (the fields read here). */
interface SizeResult {
  memories: number;
  ann: { how?: string; build_s?: number; file_bytes?: number };
  rss_bytes: Record<string, number>;
  rows: { search_type: string; connections: number; rps: number; p50_ms: number; p95_ms: number; not_ok: number }[];
}

const say = (line: string) => console.error(line);
const label = (size: number) => (size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}k` : String(size));
const work = join(ROOT, ".stack", "bench-curve");
mkdirSync(work, { recursive: true });

const startedAt = new Date().toISOString();
const results: SizeResult[] = [];
for (const size of SIZES) {
  say(`\n== ${size.toLocaleString("en-US")} memories`);
  const out = join(work, `${size}.json`);
  const run = Bun.spawn(
    [process.execPath, "run", "bench/embedded.ts", "--memories", String(size), "--compare", "none", "--duration", args.duration!, "--connections", String(CONNECTIONS), "--types", TYPES.join(","), "--out", out],
    { cwd: ROOT, stdout: "ignore", stderr: "inherit" },
  );
  const code = await run.exited;
  if (code !== 0) throw new Error(`bench/embedded.ts --memories ${size} exited with ${code}`);
  results.push(JSON.parse(readFileSync(out, "utf8")) as SizeResult);
}

function row(result: SizeResult, type: string, connections: number) {
  const found = result.rows.find((r) => r.search_type === type && r.connections === connections);
  if (found === undefined) throw new Error(`no ${type} row at ${connections} connections for ${result.memories} memories`);
  return found;
}

function report(): string {
  const ms = (x: number) => x.toFixed(1);
  const lines = [
    `# What a search costs as the collection grows: the embedded default (${startedAt})`,
    "",
    `One \`bun run start\` process per size (SQLite, sqlite-vec, FTS5, the ANN index ready), generated memories`,
    `ingested through the API, unique uncached searches, top_k 10, oha for ${args.duration} s per cell;`,
    `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? "?"}.`,
    "",
    `| memories | search | 1 conn p50 / p95 | ${CONNECTIONS} conn req/s | not 200 |`,
    "| ---: | --- | --- | ---: | ---: |",
  ];
  for (const result of results) {
    for (const type of TYPES) {
      const one = row(result, type, 1);
      const many = row(result, type, CONNECTIONS);
      lines.push(`| ${result.memories.toLocaleString("en-US")} | ${type} | ${ms(one.p50_ms)} / ${ms(one.p95_ms)} ms | ${many.rps} | ${one.not_ok + many.not_ok} |`);
    }
  }
  lines.push("", "| memories | ANN index | file | server RSS |", "| ---: | --- | ---: | ---: |");
  for (const result of results) {
    const mib = (bytes: number | undefined) => `${((bytes ?? 0) / 1024 ** 2).toFixed(0)} MiB`;
    const index = result.ann.how === "built" ? `built in ${result.ann.build_s} s` : (result.ann.how ?? "none");
    lines.push(`| ${result.memories.toLocaleString("en-US")} | ${index} | ${mib(result.ann.file_bytes)} | ${mib(result.rss_bytes.defaults)} |`);
  }
  // each type's p95 at the largest size against the size 10× below it (issue 16: at most 2×)
  const bySize = new Map(results.map((r) => [r.memories, r]));
  const growth: string[] = [];
  for (const result of results) {
    const tenth = bySize.get(result.memories / 10);
    if (tenth === undefined) continue;
    for (const type of TYPES) {
      const ratio = row(result, type, 1).p95_ms / row(tenth, type, 1).p95_ms;
      growth.push(`- ${type}: p95 at ${label(result.memories)} is ${ratio.toFixed(2)}× its p95 at ${label(tenth.memories)}`);
    }
  }
  if (growth.length > 0) lines.push("", "Ten times the memories:", "", ...growth);
  const top = Math.max(...results.flatMap((r) => TYPES.map((type) => row(r, type, 1).p95_ms)));
  lines.push(
    "",
    "```mermaid",
    "xychart-beta",
    `  title "p95 at 1 connection (ms) against collection size"`,
    `  x-axis [${results.map((r) => `"${label(r.memories)}"`).join(", ")}]`,
    `  y-axis "p95 ms" 0 --> ${Math.ceil(top * 1.1)}`,
    ...TYPES.map((type) => `  line [${results.map((r) => ms(row(r, type, 1).p95_ms)).join(", ")}]`),
    "```",
    "",
    `Lines, in order: ${TYPES.join(", ")}.`,
    "",
    `Command: \`bun run bench:curve --sizes ${SIZES.join(",")} --types ${TYPES.join(",")} --duration ${args.duration} --connections ${CONNECTIONS}\``,
    "",
  );
  return lines.join("\n");
}

const md = report();
mkdirSync(RESULTS_DIR, { recursive: true });
const stamp = fileStamp(startedAt);
writeFileSync(join(RESULTS_DIR, `curve-${stamp}.json`), JSON.stringify({ started_at: startedAt, connections: CONNECTIONS, results }, null, 2));
// only the default sizes make the curve the README quotes; a run of others keeps its own table
const mdName = SIZES.join(",") === DEFAULT_SIZES ? "curve-latest.md" : `curve-${stamp}.md`;
writeFileSync(join(RESULTS_DIR, mdName), md);
console.log(md);
