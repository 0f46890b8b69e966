/**
 * `bun run import:notion` on a small handwritten export (nested pages, a database with
 * properties, unicode, an empty page), through a real Memory API over HTTP: imported twice, then
 * searched with paraphrased questions; a page that shrank loses its extra chunks; broken inputs
 * are named and the rest still imported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { zipSync } from "fflate";
import { ROOT, allMemories, newCollection, runScript, startMemoryApi, type MemoryApiProcess } from "../support";

const FIXTURE = join(ROOT, "test/fixtures/notion-export");
const ONBOARDING = "Team Wiki 0a1b2c3d4e5f60718293a4b5c6d7e8f9/Engineering Onboarding 11111111111111111111111111111111.md";
const scratch = mkdtempSync(join(tmpdir(), "notion-export-test-"));

function zipFolder(folder: string, zipPath: string, root = "Export-3f2e1d/"): void {
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else files[root + relative(folder, full)] = readFileSync(full);
    }
  };
  walk(folder);
  writeFileSync(zipPath, zipSync(files));
}

let api: MemoryApiProcess;
let token = "";
let cid = "";
let env: Record<string, string> = {};
const importNotion = (...args: string[]) => runScript("clients/notion/cli.ts", args, env);

beforeAll(async () => {
  api = await startMemoryApi();
  token = api.mint(`notion-${crypto.randomUUID()}`, "pro");
  cid = await newCollection(api, token);
  env = { ...api.env, MEMORY_API_URL: api.url, MEMORY_API_TOKEN: token };
}, 120_000);

afterAll(async () => {
  if (api) {
    await api.call("DELETE", `/v1/collections/${cid}`, token).catch(() => {});
    await api.stop();
  }
  rmSync(scratch, { recursive: true, force: true });
});

const search = async (query: string, collectionId = cid) => {
  const reply = await api.call("POST", "/v1/search", token, { query, collection_id: collectionId, search_type: "hybrid", top_k: 3 });
  expect(reply.status).toBe(200);
  return reply.body.results as { id: string; content: string; metadata: Record<string, any> }[];
};

describe("import:notion from an export", () => {
  let first: Awaited<ReturnType<typeof importNotion>>;

  test("imports every page of a zipped export with its metadata", async () => {
    const zip = join(scratch, "export.zip");
    zipFolder(FIXTURE, zip);
    first = await importNotion(zip, "--collection", cid);
    expect(first.stderr).not.toContain("problem");
    expect(first.code).toBe(0);
    // 8 pages (the empty one included, with no chunk); every chunk added on a fresh collection
    expect(first.summary).toMatchObject({ pages: 8, updated: 0, unchanged: 0, removed: 0, problems: 0 });
    expect(first.summary!.added).toBe(first.summary!.chunks);
    expect(first.stdout).toMatch(/imported 8 pages as \d+ chunks: \d+ added, 0 updated, 0 unchanged, 0 removed in [\d.]+ s \([\d.]+ memories\/s, [\d.]+ pages\/s\)/);

    const memories = await allMemories(api, token, cid);
    expect(memories).toHaveLength(first.summary!.chunks);
    for (const m of memories) {
      expect(m.id).toBe(`${m.metadata.page_id}:${m.metadata.chunk}`);
      expect(m.metadata.source).toBe("notion");
    }
    expect(memories.some((m) => m.metadata.page_id === "44444444444444444444444444444444")).toBe(false);

    const deploy = memories.find((m) => m.metadata.page_title === "Deploy Checklist")!;
    expect(deploy.metadata.page_path).toBe("Team Wiki / Engineering Onboarding / Deploy Checklist");
    const cafe = memories.find((m) => m.metadata.page_id === "33333333333333333333333333333333")!;
    expect(cafe.metadata.page_title).toBe("Café Menu ☕");
    expect(memories.some((m) => m.content.includes("抹茶のチーズケーキ"))).toBe(true);

    const billing = memories.find((m) => m.metadata.page_title === "Billing Migration")!;
    expect(billing.metadata).toMatchObject({ database: "Projects", Status: "In progress", Owner: "Priya Raman", Budget: 120000, Tags: "payments, backend" });
    expect(billing.metadata.page_path).toBe("Team Wiki / Projects / Billing Migration");
  });

  test("re-importing the same export (as a folder this time) updates in place: nothing added, nothing duplicated", async () => {
    const again = await importNotion(FIXTURE, "--collection", cid);
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ pages: 8, chunks: first.summary!.chunks, added: 0, updated: 0, unchanged: first.summary!.chunks, removed: 0 });
    expect(await allMemories(api, token, cid)).toHaveLength(first.summary!.chunks);
  });

  test.each([
    ["how do I connect to the internal network from home?", "Engineering Onboarding", "WireGuard"],
    ["what should I do when a release goes wrong?", "Deploy Checklist", "Revert by redeploying"],
    ["is there a green tea dessert in the cafeteria?", "Café Menu ☕", "matcha"],
    ["who is responsible for moving the invoices to the new database?", "Billing Migration", "Priya Raman"],
    ["where did I leave the car at the airport?", "Travel Notes", "level 4"],
  ])("a paraphrased question finds the right chunk first: %s", async (question, page, phrase) => {
    const [best] = await search(question);
    expect(best!.metadata.page_title).toBe(page);
    expect(best!.content).toContain(phrase);
  });

  test("a page that lost sections loses its extra chunks; a changed chunk is updated", async () => {
    const folder = join(scratch, "shrunk");
    cpSync(FIXTURE, folder, { recursive: true });
    const before = (await allMemories(api, token, cid)).filter((m) => m.metadata.page_id === "11111111111111111111111111111111");
    expect(before.length).toBeGreaterThanOrEqual(4);
    writeFileSync(
      join(folder, ONBOARDING),
      "# Engineering Onboarding\n\nThis page walks a new engineer through the first week.\n\n## VPN access\n\nVPN profiles now come from the new portal; WireGuard is still the client.\n",
    );
    const run = await importNotion(folder, "--collection", cid);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ added: 0, removed: before.length - 2 });
    expect(run.summary!.updated).toBeGreaterThanOrEqual(1);
    const after = (await allMemories(api, token, cid)).filter((m) => m.metadata.page_id === "11111111111111111111111111111111");
    expect(after.map((m) => m.id).sort()).toEqual(["11111111111111111111111111111111:0", "11111111111111111111111111111111:1"]);
    const [best] = await search("how do I connect to the internal network from home?");
    expect(best!.content).toContain("new portal");
    expect(await allMemories(api, token, cid)).toHaveLength(first.summary!.chunks - (before.length - 2));
  });

  test("a page that cannot be parsed and a database row without its page are named; the rest is imported", async () => {
    const folder = join(scratch, "broken");
    cpSync(FIXTURE, folder, { recursive: true });
    writeFileSync(join(folder, "Scanned Receipt 66666666666666666666666666666666.md"), new Uint8Array([0x23, 0x20, 0xff, 0xfe, 0x00, 0xc3]));
    const csv = join(folder, "Team Wiki 0a1b2c3d4e5f60718293a4b5c6d7e8f9/Projects aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_all.csv");
    writeFileSync(csv, readFileSync(csv, "utf8") + "Office Move,Planned,Ana Lima,9000,facilities\n");
    const other = await newCollection(api, token);
    const run = await importNotion(folder, "--collection", other);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Scanned Receipt 66666666666666666666666666666666.md: cannot parse this page: it is not valid UTF-8");
    expect(run.stderr).toContain('row "Office Move" has no page file in the export');
    expect(run.summary).toMatchObject({ pages: 8, problems: 2 });
    const [best] = await search("what should I do when a release goes wrong?", other);
    expect(best!.metadata.page_title).toBe("Deploy Checklist");
  });

  test("a bad zip, a missing path and a wrong collection fail with a message naming them", async () => {
    const bad = join(scratch, "bad.zip");
    writeFileSync(bad, "this is not a zip file at all");
    const badZip = await importNotion(bad, "--collection", cid);
    expect(badZip.code).toBe(2);
    expect(badZip.stderr).toContain(`${bad} is not a readable zip archive`);

    const missing = await importNotion(join(scratch, "nope.zip"), "--collection", cid);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.zip does not exist");

    const noCollection = await importNotion(FIXTURE, "--collection", "does-not-exist");
    expect(noCollection.code).toBe(2);
    expect(noCollection.stderr).toContain("collection does-not-exist not found");

    const noToken = await runScript("clients/notion/cli.ts", [FIXTURE, "--collection", cid], { ...env, MEMORY_API_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("MEMORY_API_TOKEN is required");
  });
});
