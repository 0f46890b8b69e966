/**
 * Fault tests against the real services: each one is stopped with the project's stack script
 * while the API keeps being used, then started again. Production backend only
 * (TEST_BACKEND=production, which `npm test` runs when the services are up).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import neo4j from "neo4j-driver";
import { backendName } from "../support/backend";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { productionConfig } from "../support/services";

const production = backendName() === "production";

function stack(...args: string[]): void {
  const proc = Bun.spawnSync([process.execPath, "run", "scripts/stack.ts", ...args], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`stack ${args.join(" ")} failed:\n${proc.stdout}\n${proc.stderr}`);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.if(production)("faults: real services stopped mid-run", () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp();
    token = await t.token(`faults-${crypto.randomUUID()}`, "pro");
  });
  afterAll(async () => {
    stack("up"); // whatever a failed test left stopped
    await t.close();
  });

  const add = (cid: string, contents: string[]) =>
    t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: contents.map((content) => ({ content })) } });
  const search = (cid: string, query: string, extra: Record<string, unknown> = {}) =>
    t.call("POST", "/v1/search", { token, body: { query, collection_id: cid, ...extra } });

  test("Redis down: searches keep answering uncached and see new writes; when it is back, the cache works again", async () => {
    const cid = await newCollection(t, token);
    expect((await add(cid, ["The boat is moored at pier 9."])).status).toBe(201);
    await search(cid, "where is the boat");
    expect((await search(cid, "where is the boat")).body.cached).toBe(true);

    stack("stop", "redis");
    try {
      for (const type of ["semantic", "keyword", "hybrid"]) {
        const reply = await search(cid, "where is the boat moored", { search_type: type });
        expect(reply.status).toBe(200);
        expect(reply.body.cached).toBe(false);
        expect(reply.body.results[0].content).toBe("The boat is moored at pier 9.");
      }
      expect((await add(cid, ["The canoe is kept in the garage."])).status).toBe(201);
      const after = await search(cid, "where is the canoe kept");
      expect(after.status).toBe(200);
      expect(after.body.results[0].content).toBe("The canoe is kept in the garage.");
      expect(t.app.pipeline.stats.cacheErrors).toBeGreaterThan(0);
    } finally {
      stack("start", "redis");
    }
    await until("the cache to serve hits again", async () => {
      await search(cid, "boats and canoes");
      return (await search(cid, "boats and canoes")).body.cached === true;
    });
    // Redis kept the answer cached before the outage; the write made during it must show all the same
    const boat = await search(cid, "where is the boat");
    expect(boat.body.results.map((r: { content: string }) => r.content)).toContain("The canoe is kept in the garage.");
  });

  test("Milvus down: writes are acknowledged and keyword search answers; semantic fails fast with 503; when it is back every write is searchable", async () => {
    const cid = await newCollection(t, token);
    stack("stop", "milvus");
    const written: string[] = [];
    try {
      for (let batch = 0; batch < 3; batch++) {
        const reply = await add(cid, Array.from({ length: 5 }, (_, i) => `outage note ${batch}-${i} about the lighthouse keeper`));
        expect(reply.status).toBe(201);
        written.push(...reply.body.ids);
      }
      const keyword = await search(cid, "lighthouse keeper", { search_type: "keyword", top_k: 100 });
      expect(keyword.status).toBe(200);
      expect(keyword.body.results).toHaveLength(15);
      const semantic = await search(cid, "who looks after the lighthouse");
      expect(semantic.status).toBe(503);
      expect(semantic.headers.get("retry-after")).not.toBeNull();
      expect(semantic.body.code).toBe("dependency_unavailable");
      expect((await t.backend.backlog()).milvus).toBeGreaterThanOrEqual(15);
    } finally {
      stack("start", "milvus");
    }
    await t.backend.settle(180_000);
    await until("semantic search to answer again", async () => (await search(cid, "lighthouse", { top_k: 100 })).status === 200);
    const found = await search(cid, "who looks after the lighthouse", { top_k: 100 });
    expect(found.body.results.map((r: { id: string }) => r.id).sort()).toEqual([...written].sort());
  }, 300_000);

  test("Neo4j down: writes are acknowledged; when it is back the outbox delivers every one", async () => {
    const cid = await newCollection(t, token);
    stack("stop", "neo4j");
    const written: string[] = [];
    try {
      for (let batch = 0; batch < 3; batch++) {
        const reply = await add(cid, Array.from({ length: 4 }, (_, i) => `graph outage memory ${batch}-${i}`));
        expect(reply.status).toBe(201);
        written.push(...reply.body.ids);
      }
      expect((await search(cid, "graph outage memory", { top_k: 100 })).body.results).toHaveLength(12);
      expect((await t.backend.backlog()).neo4j).toBeGreaterThanOrEqual(12);
    } finally {
      stack("start", "neo4j");
    }
    await t.backend.settle(180_000);
    const driver = neo4j.driver(productionConfig.neo4jUri);
    try {
      const session = driver.session();
      const result = await session.run(
        "MATCH (m:Memory) WHERE m.collection_id = $cid RETURN m.id AS id",
        { cid },
      );
      await session.close();
      expect(result.records.map((r) => r.get("id")).sort()).toEqual([...written].sort());
    } finally {
      await driver.close();
    }
  }, 300_000);
});
