/**
 * `bun run bench/experiments/notion-import.ts [--pages N] [--seed S] [--keep]`: the Notion importer's rate.
 *
 *   1. generates a deterministic N-page (1,000 by default) Notion "Markdown & CSV" export folder
 *      in a temp dir: a root page, team pages, sub-pages nested up to three levels, and a
 *      "Projects" database (CSV + `_all.csv`, a tenth of the pages are its rows, with properties);
 *   2. starts the Memory API in embedded mode on a free loopback port (fresh DATA_DIR and secret),
 *      mints a token in-process and creates a collection;
 *   3. runs `bun run import:notion <folder> --collection ID` (the CLI, as a user would) twice:
 *      the first import, then a re-import of the same export (nothing to write);
 *   4. prints and writes bench/results/notion-import.json.
 *
 * bench/experiments/poe-answer.ts reuses the generator and the embedded API of this file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { createTokenService } from "../../src/auth/tokens";
import type { Tier } from "../../src/auth/claims";
import { Rng } from "../prng";
import { CITIES, FIRST_NAMES, LAST_NAMES, PROJECTS, ROLES, SYSTEMS, TECH, TEMPLATES, TOPICS } from "../vocabulary";

export const ROOT = resolve(import.meta.dir, "../..");
export const RESULTS_DIR = join(ROOT, "bench", "results");
const say = (line: string) => console.error(line);

// ---------------------------------------------------------------------------------------------
// The generated export.

export interface GeneratedExport {
  dir: string;
  pages: number;
  databaseRows: number;
  files: number;
  bytes: number;
}

/** 32 lowercase hex digits, Notion's id format, from the generator's PRNG. */
const pageId = (rng: Rng) => Array.from({ length: 4 }, () => Math.floor(rng.next() * 2 ** 32).toString(16).padStart(8, "0")).join("");

const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** A page body: 2-5 sections under `##` headings, each 2-5 paragraphs of 1-3 generated notes. */
function pageBody(rng: Rng, day: string): string {
  const sections: string[] = [];
  const headings = rng.sample(TOPICS, rng.int(2, 5));
  for (const heading of headings) {
    const paragraphs: string[] = [];
    for (let p = rng.int(2, 5); p > 0; p--) {
      const notes: string[] = [];
      for (let n = rng.int(1, 3); n > 0; n--) notes.push(rng.pick(TEMPLATES)(rng, day).content);
      paragraphs.push(notes.join(" "));
    }
    if (rng.chance(0.3)) paragraphs.push(rng.sample(TECH, 3).map((t) => `- ${t} for the ${rng.pick(SYSTEMS)}`).join("\n"));
    sections.push(`## ${heading[0]!.toUpperCase()}${heading.slice(1)}\n\n${paragraphs.join("\n\n")}`);
  }
  return sections.join("\n\n");
}

interface GenPage {
  title: string;
  id: string;
  /** Folder (relative to the export root) that holds the page's .md file. */
  folder: string;
  depth: number;
}

/** Writes the export; the same `pages` and `seed` give byte-identical files on every machine. */
export function generateExport(dir: string, pages: number, seed = "notion-import-bench-v1"): GeneratedExport {
  if (pages < 3) throw new Error("--pages must be at least 3");
  const rng = new Rng(`${seed}:${pages}`);
  let files = 0;
  let bytes = 0;
  const write = (path: string, text: string) => {
    const full = join(dir, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, text);
    files++;
    bytes += Buffer.byteLength(text);
  };
  const childFolder = (page: GenPage) => `${page.folder ? `${page.folder}/` : ""}${page.title} ${page.id}`;
  const writePage = (page: GenPage, body: string, properties?: string) =>
    write(`${page.folder ? `${page.folder}/` : ""}${page.title} ${page.id}.md`, `# ${page.title}\n\n${properties ? `${properties}\n\n` : ""}${body}\n`);
  const day = (i: number) => `2026-${String((i % 12) + 1).padStart(2, "0")}-${String((i % 28) + 1).padStart(2, "0")}`;

  const root: GenPage = { title: "Company Wiki", id: pageId(rng), folder: "", depth: 0 };
  writePage(root, pageBody(rng, day(0)));
  const databaseRows = Math.max(1, Math.floor(pages / 10));
  const teams = Math.min(12, Math.max(1, Math.floor((pages - 1 - databaseRows) / 20)));
  const parents: GenPage[] = [];
  let written = 1;
  for (let t = 0; t < teams && written < pages - databaseRows; t++, written++) {
    const team: GenPage = { title: `Team ${PROJECTS[t % PROJECTS.length]}`, id: pageId(rng), folder: childFolder(root), depth: 1 };
    writePage(team, pageBody(rng, day(written)));
    parents.push(team);
  }
  for (; written < pages - databaseRows; written++) {
    const parent = rng.pick(parents);
    const title = `${rng.pick(["Notes on", "Runbook:", "Guide to", "Decisions on", "Plan for"])} ${rng.pick(TOPICS).replace(/^the /, "")} ${written}`;
    const page: GenPage = { title, id: pageId(rng), folder: childFolder(parent), depth: parent.depth + 1 };
    writePage(page, pageBody(rng, day(written)));
    if (page.depth < 3) parents.push(page);
  }

  // the database: Notion writes `Projects <id>.csv` (the view) and `_all.csv` (every row) beside
  // the folder of its rows; each row is a page whose first lines repeat its properties
  const dbId = pageId(rng);
  const dbName = `Projects ${dbId}`;
  const header = ["Name", "Status", "Owner", "Budget", "Tags", "Due"];
  const rows: string[] = [header.join(",")];
  for (let r = 0; r < databaseRows; r++, written++) {
    const title = `Project ${PROJECTS[r % PROJECTS.length]} ${r + 1}`;
    const status = rng.pick(["Not started", "In progress", "Done", "Blocked"]);
    const owner = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
    const budget = String(rng.int(1, 200) * 1000);
    const tags = rng.sample(["backend", "mobile", "payments", "growth", "infra", "research", "design"], rng.int(1, 3)).join(", ");
    const due = day(r + 3);
    rows.push([title, status, owner, budget, tags, due].map(csvField).join(","));
    const page: GenPage = { title, id: pageId(rng), folder: `${childFolder(root)}/${dbName}`, depth: 2 };
    const props = `Status: ${status}\nOwner: ${owner}\nBudget: ${budget}\nTags: ${tags}\nDue: ${due}`;
    writePage(page, `The project runs from ${rng.pick(CITIES)} with a ${rng.pick(ROLES)} in charge.\n\n${pageBody(rng, due)}`, props);
  }
  write(`${childFolder(root)}/${dbName}.csv`, `${rows.slice(0, Math.min(rows.length, 51)).join("\n")}\n`);
  write(`${childFolder(root)}/${dbName}_all.csv`, `${rows.join("\n")}\n`);
  return { dir, pages: written, databaseRows, files, bytes };
}

// ---------------------------------------------------------------------------------------------
// The Memory API, embedded, on a free loopback port.

export interface EmbeddedApi {
  url: string;
  mint(sub: string, tier: Tier, ttlSeconds?: number): Promise<string>;
  createCollection(token: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

export function freeLoopbackPort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export async function startEmbeddedApi(): Promise<EmbeddedApi> {
  const dataDir = mkdtempSync(join(tmpdir(), "memory-api-bench-notion-"));
  const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  const port = freeLoopbackPort();
  const server: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([process.execPath, "run", "src/index.ts"], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), MEMORY_MODE: "embedded", DATA_DIR: dataDir, JWT_SECRET: secret, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = server.stderr.getReader();
  let text = "";
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !text.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void server.stderr.pipeTo(new WritableStream()).catch(() => {});
  void server.stdout.pipeTo(new WritableStream()).catch(() => {});
  if (!text.includes("listening on")) {
    server.kill();
    throw new Error(`the Memory API did not start:\n${text}`);
  }
  const url = `http://127.0.0.1:${port}`;
  const tokens = createTokenService(secret);
  return {
    url,
    mint: (sub, tier, ttlSeconds = 24 * 3600) => tokens.sign({ sub, tier, ttlSeconds }),
    async createCollection(token, name) {
      const response = await fetch(`${url}/v1/collections`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name }),
      });
      if (response.status !== 201) throw new Error(`cannot create a collection: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { id: string }).id;
    },
    async stop() {
      server.kill("SIGTERM");
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The importer, through its CLI.

export interface ImportRun {
  /** Wall time of the CLI process: start-up, reading the export, the import itself. */
  wall_seconds: number;
  summary: { pages: number; chunks: number; added: number; updated: number; unchanged: number; removed: number; problems: number; seconds: number; memoriesPerSecond: number; pagesPerSecond: number };
}

export async function runImport(folder: string, collectionId: string, apiUrl: string, token: string): Promise<ImportRun> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, "run", "clients/notion/cli.ts", folder, "--collection", collectionId], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), MEMORY_API_URL: apiUrl, MEMORY_API_TOKEN: token },
    stdout: "pipe",
    stderr: "inherit",
  });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const wall = (performance.now() - started) / 1000;
  const line = stdout.split("\n").find((l) => l.startsWith("SUMMARY "));
  if (code !== 0 || !line) throw new Error(`import:notion exited with ${code}:\n${stdout}`);
  return { wall_seconds: wall, summary: JSON.parse(line.slice("SUMMARY ".length)) };
}

// ---------------------------------------------------------------------------------------------

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface NotionImportBench {
  api: EmbeddedApi;
  token: string;
  /** The user of `token` (a bot's token for the same collection needs the same `sub`). */
  sub: string;
  collection: string;
  result: Record<string, unknown>;
}

/** Generates, imports twice, writes bench/results/notion-import.json; the API is left running. */
export async function runNotionImportBench(pages: number, seed?: string, keepExport = false): Promise<NotionImportBench> {
  const loadAtStart = loadavg().map((x) => round(x));
  const folder = mkdtempSync(join(tmpdir(), "notion-export-bench-"));
  const generated = generateExport(folder, pages, seed);
  say(`bench/notion-import: generated ${generated.pages} pages (${generated.databaseRows} database rows) in ${generated.files} files, ${(generated.bytes / 1e6).toFixed(2)} MB, under ${folder}`);
  say("bench/notion-import: starting the Memory API (embedded)…");
  const api = await startEmbeddedApi();
  try {
    const sub = `bench-notion-${crypto.randomUUID()}`;
    const token = await api.mint(sub, "pro");
    const collection = await api.createCollection(token, "notion-import-bench");
    say(`bench/notion-import: API on ${api.url}; first import…`);
    const first = await runImport(folder, collection, api.url, token);
    say("bench/notion-import: re-import of the same export…");
    const again = await runImport(folder, collection, api.url, token);
    if (again.summary.added + again.summary.updated + again.summary.removed !== 0 || again.summary.chunks !== first.summary.chunks) {
      throw new Error(`the re-import changed something: ${JSON.stringify(again.summary)}`);
    }
    const result = {
      generated_at: new Date().toISOString(),
      command: `bun run bench/experiments/notion-import.ts --pages ${pages}`,
      // other work on the box slows the embedder: the load average says how busy it was
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", bun: Bun.version, load_average_at_start: loadAtStart, load_average_at_end: loadavg().map((x) => round(x)) },
      mode: "embedded",
      export: { pages: generated.pages, database_rows: generated.databaseRows, files: generated.files, megabytes: round(generated.bytes / 1e6) },
      first_import: {
        pages: first.summary.pages,
        chunks: first.summary.chunks,
        added: first.summary.added,
        seconds: round(first.summary.seconds),
        memories_per_second: round(first.summary.memoriesPerSecond, 1),
        pages_per_second: round(first.summary.pagesPerSecond, 1),
        cli_wall_seconds: round(first.wall_seconds),
      },
      re_import: {
        unchanged: again.summary.unchanged,
        added: again.summary.added,
        updated: again.summary.updated,
        removed: again.summary.removed,
        seconds: round(again.summary.seconds),
        cli_wall_seconds: round(again.wall_seconds),
      },
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "notion-import.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `notion import, ${result.export.pages} pages → ${result.first_import.chunks} chunks: ${result.first_import.seconds} s ` +
        `(${result.first_import.memories_per_second} memories/s, ${result.first_import.pages_per_second} pages/s; CLI wall ${result.first_import.cli_wall_seconds} s); ` +
        `re-import ${result.re_import.seconds} s (CLI wall ${result.re_import.cli_wall_seconds} s), ${result.re_import.unchanged} unchanged`,
    );
    console.log(`written to ${join("bench", "results", "notion-import.json")}`);
    return { api, token, sub, collection, result };
  } catch (error) {
    await api.stop();
    throw error;
  } finally {
    if (!keepExport) rmSync(folder, { recursive: true, force: true });
  }
}

/** `--pages N` → N, or exits with a message. */
export function pagesOption(raw: string | undefined): number {
  const pages = Number(raw ?? "1000");
  if (!Number.isInteger(pages) || pages < 3 || pages > 100_000) {
    console.error("bench: --pages must be an integer between 3 and 100000");
    process.exit(2);
  }
  return pages;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: { pages: { type: "string" }, seed: { type: "string" }, keep: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log("usage: bun run bench/experiments/notion-import.ts [--pages N (1000)] [--seed S] [--keep (the generated export)]");
    process.exit(0);
  }
  const bench = await runNotionImportBench(pagesOption(values.pages), values.seed, values.keep);
  await bench.api.stop();
}
