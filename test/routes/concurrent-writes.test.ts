/**
 * Many writes to one collection at once (production commits them in shared transactions: group
 * commit): every acknowledged write is there, the last write of a memory wins, and each write
 * keeps its own entry in the memory's history, in the order the writes were made.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp();
  token = await t.token("concurrent-writer");
  cid = await newCollection(t, token, "concurrent-writes");
});
afterAll(() => t.close());

test("30 concurrent upserts of 10 memories: all acknowledged, last one wins, every write in the history in order", async () => {
  const replies = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      t.call("POST", `/v1/collections/${cid}/memories`, {
        token,
        body: { memories: [{ id: `m${i % 10}`, content: `version ${i} of note ${i % 10}`, metadata: { write: i } }] },
      }),
    ),
  );
  expect(replies.map((r) => r.status)).toEqual(Array(30).fill(201));
  await t.backend.settle();
  for (let n = 0; n < 10; n++) {
    const memory = await t.call("GET", `/v1/collections/${cid}/memories/m${n}`, { token });
    expect(memory.status).toBe(200);
    // requests are handled concurrently: the last to be written is one of the three, and the history says which
    const history = await t.call("GET", `/v1/collections/${cid}/memories/m${n}/history`, { token });
    const entries = history.body.history as { op: string; new: { content: string; metadata: { write: number } } }[];
    expect(entries.map((e) => e.op)).toEqual(["create", "replace", "replace"]);
    expect(entries.map((e) => e.new.metadata.write).sort((a, b) => a - b)).toEqual([n, n + 10, n + 20]);
    expect(memory.body.content).toBe(entries.at(-1)!.new.content);
  }
  const search = await t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "version of note 7", top_k: 10 } });
  expect(search.body.results.map((r: { id: string }) => r.id).sort()).toEqual(Array.from({ length: 10 }, (_, n) => `m${n}`).sort());
});
