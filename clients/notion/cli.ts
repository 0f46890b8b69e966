/**
 * `bun run import:notion <export.zip | folder> --collection ID`
 * `bun run import:notion --api --collection ID`
 *
 * Imports Notion pages as memories through the Memory API (MEMORY_API_URL, MEMORY_API_TOKEN).
 * The summary goes to stdout, progress and problems to stderr. Exit 0: everything imported;
 * 1: some pages could not be read (the rest was imported); 2: nothing could be done.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../../src/env-reader";
import { MemoryApiError, MemoryClient } from "../typescript/memory-client";
import { pagesFromNotionApi, notionClient } from "./api-pages";
import { loadNotionImportConfig } from "./config";
import { ExportError, readExport } from "./export-files";
import { pagesFromExport } from "./export-pages";
import { importPages, type ImportSummary } from "./importer";
import type { NotionPage, PageProblem } from "./page";
import { progressPrinter } from "./progress";

const USAGE = `usage: bun run import:notion <export.zip | folder> --collection ID [--chunk-chars N] [--prune]
       bun run import:notion --api --collection ID [--chunk-chars N] [--prune]

  <export.zip | folder>  a Notion "Markdown & CSV" export, zipped or unpacked
  --api                  read the pages and databases shared with the integration instead
  --collection ID        the Memory API collection to import into (required)
  --chunk-chars N        longest chunk in characters, 200..20000 (default NOTION_CHUNK_CHARS, 1000)
  --prune                also delete the memories of Notion pages absent from this import
  -h, --help             this text

  env: MEMORY_API_URL (http://127.0.0.1:8000), MEMORY_API_TOKEN (required; bun run token -- --sub USER),
       NOTION_TOKEN (required with --api), NOTION_API_URL (Notion's own), NOTION_REQUESTS_PER_SECOND (3),
       NOTION_MAX_RETRIES (5), NOTION_CHUNK_CHARS (1000), NOTION_BATCH_SIZE (1000)
  exit: 0 all imported; 1 some pages could not be read (the rest was imported); 2 nothing was done`;

function fail(message: string, code = 2): never {
  console.error(`import:notion: ${message}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      collection: { type: "string" },
      api: { type: "boolean", default: false },
      "chunk-chars": { type: "string" },
      prune: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.api && positionals.length > 0) fail(`give either an export or --api, not both\n${USAGE}`);
if (!values.api && positionals.length !== 1) fail(`give one export (.zip or folder), or --api\n${USAGE}`);
if (!values.collection) fail(`--collection ID is required (a collection of MEMORY_API_TOKEN's user; POST /v1/collections creates one)\n${USAGE}`);
const collectionId = values.collection;

let config;
try {
  config = loadNotionImportConfig(undefined, { api: values.api });
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
let chunkChars = config.chunkChars;
if (values["chunk-chars"] !== undefined) {
  chunkChars = Number(values["chunk-chars"]);
  if (!Number.isInteger(chunkChars) || chunkChars < 200 || chunkChars > 20_000) fail("--chunk-chars must be an integer between 200 and 20000");
}

// a local export is read (and a bad one refused) before anything is asked of the Memory API
const problems: PageProblem[] = [];
let pages: Iterable<NotionPage> | AsyncIterable<NotionPage> = [];
let pagesTotal: number | undefined;
if (!values.api) {
  const source = positionals[0]!;
  try {
    const files = readExport(source);
    if (files.length === 0) fail(`${source} holds no .md or .csv file: is it a Notion "Markdown & CSV" export?`);
    const fromExport = pagesFromExport(files);
    problems.push(...fromExport.problems);
    pages = fromExport.pages;
    pagesTotal = fromExport.pages.length;
  } catch (error) {
    if (error instanceof ExportError) fail(error.message);
    throw error;
  }
}

const memory = new MemoryClient({
  baseUrl: config.memoryApiUrl,
  token: config.memoryApiToken,
  retries: 5,
  timeoutMs: 300_000,
  onRetry: (error, waitMs) => console.error(`import:notion: the Memory API answered ${error.status} ${error.code}; retrying in ${(waitMs / 1000).toFixed(1)} s`),
});

try {
  await memory.getCollection(collectionId);
} catch (error) {
  if (error instanceof MemoryApiError) {
    if (error.status === 404) fail(`collection ${collectionId} not found for this token`);
    if (error.status === 401) fail(`the Memory API refused MEMORY_API_TOKEN (401: ${error.detail})`);
    if (error.status === 0) fail(`cannot reach the Memory API at ${config.memoryApiUrl} (${error.detail}); is it running? Is MEMORY_API_URL right?`);
    fail(error.message);
  }
  throw error;
}

let rateLimited = 0;
if (values.api) {
  const client = notionClient({
    token: config.notionToken!,
    baseUrl: config.notionApiUrl,
    requestsPerSecond: config.notionRequestsPerSecond,
    maxRetries: config.notionMaxRetries,
    onRateLimited: (retryAfter) => {
      rateLimited++;
      console.error(`import:notion: Notion rate limit (429); waiting ${retryAfter ?? "a moment"} s as asked`);
    },
  });
  console.error(`import:notion: listing the pages and databases shared with the integration…`);
  try {
    const listed = await pagesFromNotionApi(client, problems);
    pages = listed.pages;
    pagesTotal = listed.total;
  } catch (error) {
    fail(`cannot list what is shared with the integration (${config.notionApiUrl ?? "https://api.notion.com"}): ${(error as Error).message}`);
  }
}
console.error(`import:notion: importing ${pagesTotal ?? "?"} pages into collection ${collectionId}`);

let summary: ImportSummary;
try {
  summary = await importPages(memory, pages, {
    collectionId,
    chunkChars,
    batchSize: config.batchSize,
    prune: values.prune,
    pagesTotal,
    problems,
    onProgress: progressPrinter((text) => process.stderr.write(text), process.stderr.isTTY === true),
    onBatchShrunk: (size, error) =>
      console.error(`import:notion: the Memory API could not finish a batch in time (${error.status || error.code}); sending batches of ${size} from now on`),
  });
} catch (error) {
  if (process.stderr.isTTY) process.stderr.write("\n");
  fail(`import stopped: ${(error as Error).message}`);
}
if (process.stderr.isTTY) process.stderr.write("\n");
for (const problem of summary.problems) console.error(`import:notion: ${problem.where}: ${problem.message}`);
console.log(
  `imported ${summary.pages} pages as ${summary.chunks} chunks: ${summary.added} added, ${summary.updated} updated, ` +
    `${summary.unchanged} unchanged, ${summary.removed} removed in ${summary.seconds.toFixed(2)} s ` +
    `(${summary.memoriesPerSecond.toFixed(1)} memories/s, ${summary.pagesPerSecond.toFixed(1)} pages/s)` +
    (summary.problems.length > 0 ? `; ${summary.problems.length} problem(s) reported above` : "") +
    (rateLimited > 0 ? `; Notion rate-limited ${rateLimited} time(s)` : ""),
);
console.log(`SUMMARY ${JSON.stringify({ ...summary, problems: summary.problems.length })}`);
process.exit(summary.problems.length > 0 ? 1 : 0);
