/**
 * `bun run import:notion --api`: the real @notionhq/client, pointed by NOTION_API_URL at a local
 * server of recorded Notion responses (fake-notion.ts; Notion itself is unreachable here), into
 * a real Memory API over HTTP. Paginated search, block children and data-source query; a 429 with
 * Retry-After is waited out and retried; requests are spaced to NOTION_REQUESTS_PER_SECOND; a
 * re-import changes nothing; a page whose blocks cannot be read is named and the rest imported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IDS } from "../../fixtures/notion-api/responses";
import { startFakeNotion, type FakeNotion } from "./fake-notion";
import { allMemories, newCollection, runScript, startMemoryApi, type CliRun, type MemoryApiProcess } from "../support";

const NOTION_TOKEN = "ntn_recorded_test_integration_secret_0123456789";
const RPS = 20;
const hex = (uuid: string) => uuid.replaceAll("-", "");
const blocksPath = (id: string) => `/v1/blocks/${id}/children`;

let api: MemoryApiProcess;
let token = "";
let env: Record<string, string> = {};
const fakes: FakeNotion[] = [];

beforeAll(async () => {
  api = await startMemoryApi();
  token = api.mint(`notion-api-${crypto.randomUUID()}`, "pro");
  env = { ...api.env, MEMORY_API_URL: api.url, MEMORY_API_TOKEN: token, NOTION_TOKEN, NOTION_REQUESTS_PER_SECOND: String(RPS) };
}, 120_000);

afterAll(async () => {
  for (const fake of fakes) fake.stop();
  if (api) await api.stop();
});

function fakeNotion(faults: Parameters<typeof startFakeNotion>[0]["faults"] = []): FakeNotion {
  const fake = startFakeNotion({ token: NOTION_TOKEN, faults });
  fakes.push(fake);
  return fake;
}

const importApi = (fake: FakeNotion, collectionId: string, extraEnv: Record<string, string> = {}): Promise<CliRun> =>
  runScript("clients/notion/cli.ts", ["--api", "--collection", collectionId], { ...env, NOTION_API_URL: fake.url, ...extraEnv });

describe("import:notion --api against recorded Notion responses", () => {
  let fake: FakeNotion;
  let cid = "";
  let first: CliRun;

  test("imports the shared pages and data-source rows, paginated, waiting out a 429's Retry-After", async () => {
    // Notion's rate limit, once, on the second page's blocks: the client must wait Retry-After (1 s)
    fake = fakeNotion([{ match: blocksPath(IDS.expenses), times: 1, status: 429, code: "rate_limited", message: "You have been rate limited. Please try again in a few minutes.", retryAfter: "1" }]);
    cid = await newCollection(api, token);
    first = await importApi(fake, cid);
    expect(first.code, first.stderr).toBe(0);
    // Handbook, Expenses, Launch Plan; the trashed page is left out
    expect(first.summary).toMatchObject({ pages: 3, updated: 0, unchanged: 0, removed: 0, problems: 0 });
    expect(first.summary!.added).toBe(first.summary!.chunks);
    expect(first.stderr).toContain("Notion rate limit (429); waiting 1 s as asked");
    expect(first.stdout).toContain("Notion rate-limited 1 time(s)");

    // the 429 was retried, no sooner than its Retry-After
    const expenses = fake.requests.filter((r) => r.path === blocksPath(IDS.expenses));
    expect(expenses.map((r) => r.status)).toEqual([429, 200]);
    expect(expenses[1]!.at - expenses[0]!.at).toBeGreaterThanOrEqual(950);
    // every list was followed to its end with the cursors the server handed out
    const handbook = fake.requests.filter((r) => r.path === blocksPath(IDS.handbook));
    expect(handbook.map((r) => r.cursor)).toEqual([undefined, "c1"]);
    const searches = fake.requests.filter((r) => r.path === "/v1/search");
    expect(searches.map((r) => r.cursor)).toEqual([undefined, "c1", undefined]);
    expect(fake.requests.some((r) => r.path === `/v1/data_sources/${IDS.dataSource}/query`)).toBe(true);
    expect(fake.requests.some((r) => r.path === blocksPath(IDS.toggle))).toBe(true);
    expect(fake.requests.some((r) => r.path === blocksPath(IDS.trashed))).toBe(false);
    expect(fake.requests.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    // requests are spaced to NOTION_REQUESTS_PER_SECOND (slack for arrival jitter on a busy box)
    const gaps = fake.requests.slice(1).map((r, i) => r.at - fake.requests[i]!.at).sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]!).toBeGreaterThanOrEqual(0.9 * (1000 / RPS));
    expect(gaps[0]!).toBeGreaterThanOrEqual(1000 / RPS / 3);
  }, 60_000);

  test("each memory carries the page's metadata; rows carry their properties as plain values", async () => {
    const memories = await allMemories(api, token, cid);
    expect(memories).toHaveLength(first.summary!.chunks);
    for (const m of memories) {
      expect(m.id).toBe(`${m.metadata.page_id}:${m.metadata.chunk}`);
      expect(m.metadata.source).toBe("notion");
    }
    const ofPage = (id: string) => memories.filter((m) => m.metadata.page_id === hex(id));
    expect(ofPage(IDS.trashed)).toHaveLength(0);

    const handbook = ofPage(IDS.handbook);
    expect(handbook.length).toBeGreaterThanOrEqual(1);
    expect(handbook[0]!.metadata).toMatchObject({ page_title: "Handbook", page_path: "Handbook", chunks: handbook.length });
    const text = handbook.map((m) => m.content).join("\n");
    // blocks from both pages of the block list, and the toggle's children
    expect(text).toContain("twenty-eight days of paid holiday");
    expect(text).toContain("Core hours are ten to four");
    expect(text).toContain("sixteen weeks of fully paid leave");

    const [expenses] = ofPage(IDS.expenses);
    expect(expenses!.metadata).toMatchObject({ page_title: "Expenses", page_path: "Handbook / Expenses", chunk: 0 });
    expect(expenses!.content).toContain("expense-cli submit --receipt photo.jpg");

    const [launch] = ofPage(IDS.launch);
    expect(launch!.metadata).toMatchObject({
      page_title: "Launch Plan",
      page_path: "Handbook / Projects / Launch Plan",
      database: "Projects",
      Status: "In progress",
      Owner: "Mei Tanaka",
      Budget: 30000,
      Tags: "marketing, launch",
      Due: "2027-02-01",
    });
    expect(launch!.metadata).not.toHaveProperty("Notes"); // an empty property is left out
    expect(launch!.content).toContain("press event in Osaka");
  });

  test("the imported pages answer a paraphrased question", async () => {
    const reply = await api.call("POST", "/v1/search", token, { query: "how long is maternity or paternity leave?", collection_id: cid, search_type: "hybrid", top_k: 3 });
    expect(reply.status).toBe(200);
    expect(reply.body.results[0].content).toContain("sixteen weeks");
  });

  test("a re-import changes nothing: same counts, every chunk unchanged", async () => {
    const again = await importApi(fakeNotion(), cid);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ pages: 3, chunks: first.summary!.chunks, added: 0, updated: 0, unchanged: first.summary!.chunks, removed: 0 });
    expect(await allMemories(api, token, cid)).toHaveLength(first.summary!.chunks);
  }, 60_000);
});

describe("import:notion --api failures", () => {
  test("a page whose blocks cannot be read is named; the other pages are imported", async () => {
    const fake = fakeNotion([{ match: blocksPath(IDS.launch), times: 99, status: 404, code: "object_not_found", message: "Could not find block. Make sure it is shared with your integration." }]);
    const cid = await newCollection(api, token);
    const run = await importApi(fake, cid);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`page "Launch Plan" (${IDS.launch}): cannot read its blocks: Could not find block`);
    expect(run.summary).toMatchObject({ pages: 2, problems: 1 });
    expect((await allMemories(api, token, cid)).some((m) => m.metadata.page_title === "Expenses")).toBe(true);
  }, 60_000);

  test("a token Notion refuses, and a missing NOTION_TOKEN, stop the import with a clear message", async () => {
    const cid = await newCollection(api, token);
    const refused = await importApi(fakeNotion(), cid, { NOTION_TOKEN: "ntn_wrong" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("cannot list what is shared with the integration");
    expect(refused.stderr).toContain("API token is invalid.");

    const missing = await importApi(fakeNotion(), cid, { NOTION_TOKEN: "" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("NOTION_TOKEN is required with --api");
    expect(await allMemories(api, token, cid)).toHaveLength(0);
  }, 60_000);
});
