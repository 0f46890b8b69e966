/**
 * Race: two PATCHes of one memory, one changing its content and one its entities, each read
 * the memory, recomputed its graph from what they read, and wrote; the later write kept its
 * own graph, computed from a state that was no longer true, and one change to the graph was
 * lost (issue 18, item 10). Now a PATCH writes its graph only over the state it read
 * (`ifUpdatedAt`, compare-and-set in both stores) and recomputes when another write came first.
 *
 * The interleaving is forced: both PATCHes' reads of the memory are held until both have read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { around } from "./spy";

describe("two concurrent PATCHes of one memory", () => {
  let t: TestApp;
  let token: string;
  let barrier: { id: string; waiting: (() => void)[]; size: number } | null = null;

  beforeAll(async () => {
    t = await createTestApp({
      wrap: {
        memories: (inner) =>
          around(inner, "get", async (get, collectionId, id) => {
            const b = barrier;
            if (b !== null && b.id === id) {
              // the first `size` reads of the memory wait for each other, then all go on
              await new Promise<void>((resolve) => {
                b.waiting.push(resolve);
                if (b.waiting.length === b.size) {
                  barrier = null;
                  for (const go of b.waiting) go();
                }
              });
            }
            return get(collectionId, id);
          }),
      },
    });
    token = await t.token(`patcher-${crypto.randomUUID()}`);
  });
  afterAll(() => t.close());

  const names = async (collection: string, q: string) =>
    ((await t.call("GET", `/v1/collections/${collection}/entities?q=${q}`, { token })).body.entities as { name: string }[]).map((e) => e.name);

  test("a content change and an entities change both reach the graph", async () => {
    const collection = await newCollection(t, token);
    const created = await t.call("POST", `/v1/collections/${collection}/memories`, {
      token,
      body: { memories: [{ id: "m1", content: "Ana lives in Lisbon." }] },
    });
    expect(created.status).toBe(201);
    const path = `/v1/collections/${collection}/memories/m1`;

    barrier = { id: "m1", waiting: [], size: 2 };
    const [content, entities] = await Promise.all([
      t.call("PATCH", path, { token, body: { content: "Ana moved to Oslo." } }),
      t.call("PATCH", path, { token, body: { entities: [{ name: "Zebediah", type: "person" }] } }),
    ]);
    expect(content.status).toBe(200);
    expect(entities.status).toBe(200);
    expect(barrier).toBeNull(); // both reads were held together: the race happened

    const memory = await t.call("GET", path, { token });
    expect(memory.body.content).toBe("Ana moved to Oslo.");
    expect(memory.body.entities).toEqual([{ name: "Zebediah", type: "person" }]);
    await t.backend.settle();
    expect(await names(collection, "oslo")).toEqual(["oslo"]); // from the new content
    expect(await names(collection, "zebediah")).toEqual(["zebediah"]); // supplied by the other PATCH
    expect(await names(collection, "lisbon")).toEqual([]); // the old content's entity is gone
  });

  test("three entity PATCHes and a content PATCH at once: the graph is the content's plus the last entities", async () => {
    const collection = await newCollection(t, token);
    await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories: [{ id: "m2", content: "A note about Lisbon." }] } });
    const path = `/v1/collections/${collection}/memories/m2`;
    barrier = { id: "m2", waiting: [], size: 4 };
    const replies = await Promise.all([
      ...["Alpha", "Bravo", "Charlie"].map((name) => t.call("PATCH", path, { token, body: { entities: [{ name }] } })),
      t.call("PATCH", path, { token, body: { content: "A note about Oslo." } }),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const memory = (await t.call("GET", path, { token })).body;
    expect(memory.content).toBe("A note about Oslo.");
    const winner = (memory.entities[0].name as string).toLowerCase();
    await t.backend.settle();
    const all = ((await t.call("GET", `/v1/collections/${collection}/entities?limit=100`, { token })).body.entities as { name: string }[]).map((e) => e.name);
    expect(all.sort()).toEqual(["oslo", winner].sort());
  });
});
