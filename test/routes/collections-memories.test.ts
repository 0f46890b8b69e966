import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
let alice: string;
let bob: string;
beforeAll(async () => {
  t = await createTestApp();
  alice = await t.token("alice");
  bob = await t.token("bob");
});
afterAll(() => t.close());

describe("collections", () => {
  test("create, get, list and delete", async () => {
    const created = await t.call("POST", "/v1/collections", { token: alice, body: { name: "notes", description: "mine" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: "notes", description: "mine", created_at: expect.any(String), dedupe_threshold: 0.95 });
    expect(Date.parse(created.body.created_at)).not.toBeNaN();

    const got = await t.call("GET", `/v1/collections/${created.body.id}`, { token: alice });
    expect(got.body).toEqual(created.body);
    const listed = await t.call("GET", "/v1/collections", { token: alice });
    expect(listed.body.collections).toContainEqual(created.body);

    expect((await t.call("DELETE", `/v1/collections/${created.body.id}`, { token: alice })).status).toBe(204);
    expect((await t.call("GET", `/v1/collections/${created.body.id}`, { token: alice })).status).toBe(404);
  });

  test("a duplicate name for the same owner is a 409; another owner may reuse it", async () => {
    await newCollection(t, alice, "dupe");
    const again = await t.call("POST", "/v1/collections", { token: alice, body: { name: "dupe" } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("conflict");
    expect((await t.call("POST", "/v1/collections", { token: bob, body: { name: "dupe" } })).status).toBe(201);
  });
});

describe("tenancy: another user's collection does not exist for you", () => {
  let cid: string;
  let mid: string;
  beforeAll(async () => {
    cid = await newCollection(t, alice, "private");
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token: alice,
      body: { memories: [{ content: "Alice's secret recipe uses saffron." }] },
    });
    mid = added.body.ids[0];
  });

  const routes = (): [string, string, unknown?][] => [
    ["GET", `/v1/collections/${cid}`],
    ["DELETE", `/v1/collections/${cid}`],
    ["GET", `/v1/collections/${cid}/memories`],
    ["POST", `/v1/collections/${cid}/memories`, { memories: [{ content: "intrusion" }] }],
    ["GET", `/v1/collections/${cid}/memories/${mid}`],
    ["PATCH", `/v1/collections/${cid}/memories/${mid}`, { content: "defaced" }],
    ["DELETE", `/v1/collections/${cid}/memories/${mid}`],
    ["POST", "/v1/search", { query: "secret recipe", collection_id: cid }],
    ["POST", "/v1/search", { query: "secret recipe", collection_id: cid, search_type: "keyword" }],
    ["POST", "/v1/search", { query: "secret recipe", collection_id: cid, search_type: "hybrid" }],
  ];

  test("every route answers 404, the same as for a collection that does not exist", async () => {
    for (const [method, path, body] of routes()) {
      const reply = await t.call(method, path, { token: bob, body });
      expect({ method, path, status: reply.status }).toEqual({ method, path, status: 404 });
      const missing = await t.call(method, path.replace(cid, crypto.randomUUID()), { token: bob, body: body && JSON.parse(JSON.stringify(body).replace(cid, crypto.randomUUID())) });
      expect(missing.status).toBe(404);
      expect(reply.body.detail).toBe(missing.body.detail);
    }
  });

  test("and nothing was changed by those attempts", async () => {
    const got = await t.call("GET", `/v1/collections/${cid}/memories/${mid}`, { token: alice });
    expect(got.body.content).toBe("Alice's secret recipe uses saffron.");
    const listed = await t.call("GET", `/v1/collections/${cid}/memories`, { token: alice });
    expect(listed.body.memories).toHaveLength(1);
    expect((await t.call("GET", "/v1/collections", { token: bob })).body.collections.map((c: any) => c.id)).not.toContain(cid);
  });
});

describe("memories", () => {
  test("add, get, patch, delete one", async () => {
    const cid = await newCollection(t, alice);
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token: alice,
      body: { memories: [{ content: "The deploy runs at 02:00 UTC.", metadata: { team: "ops", priority: 2 } }] },
    });
    expect(added.status).toBe(201);
    const [id] = added.body.ids;
    const got = await t.call("GET", `/v1/collections/${cid}/memories/${id}`, { token: alice });
    expect(got.body).toMatchObject({ id, content: "The deploy runs at 02:00 UTC.", metadata: { team: "ops", priority: 2 } });

    const patched = await t.call("PATCH", `/v1/collections/${cid}/memories/${id}`, { token: alice, body: { metadata: { team: "sre" } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ content: "The deploy runs at 02:00 UTC.", metadata: { team: "sre" }, created_at: got.body.created_at });

    expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${id}`, { token: alice })).status).toBe(204);
    expect((await t.call("GET", `/v1/collections/${cid}/memories/${id}`, { token: alice })).status).toBe(404);
    expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${id}`, { token: alice })).status).toBe(404);
  });

  test("a given id upserts: same id, new content, created_at kept", async () => {
    const cid = await newCollection(t, alice);
    const first = await t.call("POST", `/v1/collections/${cid}/memories`, { token: alice, body: { memories: [{ id: "page-1:0", content: "old text" }] } });
    expect(first.body.ids).toEqual(["page-1:0"]);
    const before = (await t.call("GET", `/v1/collections/${cid}/memories/page-1:0`, { token: alice })).body;
    await t.call("POST", `/v1/collections/${cid}/memories`, { token: alice, body: { memories: [{ id: "page-1:0", content: "new text" }] } });
    const after = (await t.call("GET", `/v1/collections/${cid}/memories/page-1:0`, { token: alice })).body;
    expect(after.content).toBe("new text");
    expect(after.created_at).toBe(before.created_at);
    const listed = await t.call("GET", `/v1/collections/${cid}/memories`, { token: alice });
    expect(listed.body.memories).toHaveLength(1);
  });

  test("an id given twice in one batch ends as its last version, in the place of its first", async () => {
    const cid = await newCollection(t, alice);
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token: alice,
      body: { memories: [{ id: "x", content: "first draft" }, { id: "y", content: "other" }, { id: "x", content: "final text", metadata: { v: 2 } }] },
    });
    expect(added.status).toBe(201);
    expect(added.body.ids).toEqual(["x", "y", "x"]);
    const listed = await t.call("GET", `/v1/collections/${cid}/memories`, { token: alice });
    expect(listed.body.memories.map((m: { id: string; content: string }) => [m.id, m.content])).toEqual([
      ["x", "final text"],
      ["y", "other"],
    ]);
    const found = await t.call("POST", "/v1/search", { token: alice, body: { query: "first draft", collection_id: cid, search_type: "keyword" } });
    expect(found.body.results).toEqual([]);
  });

  test("cursor pagination walks every memory once, in insertion order", async () => {
    const cid = await newCollection(t, alice);
    const contents = Array.from({ length: 25 }, (_, i) => `note number ${i}`);
    await t.call("POST", `/v1/collections/${cid}/memories`, { token: alice, body: { memories: contents.map((content) => ({ content })) } });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/collections/${cid}/memories?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await t.call("GET", path, { token: alice });
      expect(page.status).toBe(200);
      seen.push(...page.body.memories.map((m: any) => m.content));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(contents);
  });

  test("a batch of 1,000 is accepted in one call", async () => {
    const cid = await newCollection(t, alice);
    const memories = Array.from({ length: 1000 }, (_, i) => ({ content: `batch item ${i} about topic ${i % 7}`, metadata: { i } }));
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token: alice, body: { memories } });
    expect(reply.status).toBe(201);
    expect(new Set(reply.body.ids).size).toBe(1000);
  });

  test("deleting a collection deletes its memories", async () => {
    const cid = await newCollection(t, alice);
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, { token: alice, body: { memories: [{ content: "gone soon" }] } });
    await t.call("DELETE", `/v1/collections/${cid}`, { token: alice });
    expect((await t.call("GET", `/v1/collections/${cid}/memories/${added.body.ids[0]}`, { token: alice })).status).toBe(404);
  });
});
