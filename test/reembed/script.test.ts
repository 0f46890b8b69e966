/**
 * `bun run reembed` as a program (scripts/reembed.ts): configured by the server's environment,
 * working on the embedded database file that two servers (apps in this process, one per model)
 * keep serving from. Embedded mode only: the production stores are exercised through the same
 * engine by reembed.test.ts (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelKeyOf } from "../../src/domain/embedding-model";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";
import { openEmbeddedStores, type EmbeddedStores } from "../../src/stores/embedded";
import { createTestApp, type TestApp } from "../support/app";
import { backendName, embeddedBackend } from "../support/backend";
import { createModelDouble, DOUBLE_MODEL_NAME, MINILM_DIR, type ModelDouble } from "../support/model-double";

const CORPUS = [
  "Green tea is brewed at 80 degrees Celsius for two minutes.",
  "Alice moved to Lisbon in 2019 and works at Acme as an engineer.",
  "The quarterly report is due on the first Monday of April.",
  "Bob's daughter plays the violin in the city youth orchestra.",
  "Our wifi password was changed to a longer passphrase last week.",
  "The dentist appointment was moved to Thursday at 3 pm.",
  "Sourdough needs a starter fed with flour and water every day.",
  "Carol is allergic to peanuts and shellfish.",
  "Espresso uses finely ground coffee and nine bars of pressure.",
  "The flight to Tokyo leaves from terminal 2 at 9:40.",
];


describe.skipIf(backendName() === "production")("bun run reembed (embedded data folder)", () => {
  let dataDir: string;
  let double: ModelDouble;
  let minilm: OnnxEmbedder;
  let other: OnnxEmbedder;
  let stores: EmbeddedStores;
  let a: TestApp;
  let b: TestApp;
  let token: string;
  let id: string;

  const run = async (...args: string[]) => {
    const proc = Bun.spawn([process.execPath, "scripts/reembed.ts", ...args], {
      env: {
        ...process.env,
        MEMORY_MODE: "embedded",
        DATA_DIR: dataDir,
        EMBEDDING_MODEL_DIR: double.dir,
        EMBED_BATCH_INVARIANT: "true",
        LOG_LEVEL: "warn",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr, code };
  };
  const search = (app: TestApp, query: string, search_type = "semantic") =>
    app.call("POST", "/v1/search", { token, body: { query, collection_id: id, search_type, top_k: 3 } });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "memory-api-reembed-"));
    double = createModelDouble();
    minilm = await createOnnxEmbedder({ modelDir: MINILM_DIR });
    other = await createOnnxEmbedder({ modelDir: double.dir });
    stores = openEmbeddedStores({ path: join(dataDir, "memory.db"), dimensions: minilm.dimensions });
    a = await createTestApp({ embedder: minilm, backend: embeddedBackend(stores) });
    b = await createTestApp({ embedder: other, backend: a.backend });
    token = await a.token("script-owner");
    const created = await a.call("POST", "/v1/collections", { token, body: { name: "notes" } });
    id = created.body.id;
    const added = await a.call("POST", `/v1/collections/${id}/memories`, {
      token,
      body: { memories: CORPUS.map((content, i) => ({ id: `m${i}`, content })) },
    });
    expect(added.status).toBe(201);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    stores?.close();
    await Promise.all([minilm?.close(), other?.close()]);
    double?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("refuses to start without a collection, or with a bad option", async () => {
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give --collection ID or --all");
    const bad = await run("--collection", id, "--batch", "0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--batch must be a positive integer, got "0"');
    expect((await run("--collection", crypto.randomUUID())).stderr).toContain("does not exist");
  });

  test("a run limited to one batch stops, prints its progress and says how to continue", async () => {
    const first = await run("--collection", id, "--batch", "3", "--max-batches", "1");
    expect(first.code).toBe(3);
    expect(first.stdout).toContain(`target model: ${DOUBLE_MODEL_NAME} (384-d`);
    expect(first.stdout).toContain(`${id}: 0/10 (0%)`);
    expect(first.stdout).toMatch(new RegExp(`${id}: 3/10 \\(30%\\), [0-9.]+ memories/s, ETA [0-9]+ (s|min)`));
    expect(first.stdout).toContain(`${id}: stopped after 1 batch(es), 3 memories re-embedded`);
    expect(first.stdout).toContain("run the same command again to continue");

    // the servers keep serving: reads and keyword search; searches by meaning wait for the end
    expect((await b.call("GET", `/v1/collections/${id}/memories`, { token })).body.memories).toHaveLength(10);
    expect((await search(b, "violin orchestra", "keyword")).body.results[0].id).toBe("m3");
    const refused = await search(b, "violin");
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain("is being re-embedded");
  });

  test("run again, it continues where it stopped and flips the collection while reads keep working", async () => {
    const running = run("--collection", id, "--batch", "2");
    let exited = false;
    void running.then(() => (exited = true));
    let reads = 0;
    do {
      const listed = await b.call("GET", `/v1/collections/${id}/memories`, { token });
      const keyword = await search(a, "dentist appointment", "keyword");
      expect([listed.status, listed.body.memories.length, keyword.status, keyword.body.results[0]?.id]).toEqual([200, 10, 200, "m5"]);
      reads++;
      await Bun.sleep(5);
    } while (!exited);
    expect(reads).toBeGreaterThan(0);

    const second = await running;
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${id}: 3/10 (30%)`);
    expect(second.stdout).toContain(`${id}: 10/10 (100%)`);
    expect(second.stdout).toContain(`${id}: done, 7 of 10 memories re-embedded`);
    expect(second.stdout).toContain(`now recorded as ${DOUBLE_MODEL_NAME} (384-d`);

    const state = await stores.reembed.collection(id);
    expect(state).toMatchObject({ embedding_model: modelKeyOf(other), reembed_target: null });
    const found = await search(b, "when does my plane to Japan leave");
    expect(found.status).toBe(200);
    expect(found.body.results[0].id).toBe("m9");
    expect((await search(a, "plane to Japan")).status).toBe(409);
  });

  test("--all finds nothing left to do", async () => {
    const all = await run("--all");
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("0 collection(s) to re-embed");
  });
});
