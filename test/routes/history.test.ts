/**
 * A memory's history through the API: every change recorded with who made it, paginated oldest
 * first, kept after the memory is deleted, pruned past its retention, invisible to other users,
 * deleted with its collection. Runs on either backend (TEST_BACKEND=production: PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { startSweepers } from "../../src/maintenance/sweepers";
import { silentLogger } from "../../src/log";

let t: TestApp;
let owner: string;
let ownerToken: string;
let other: string;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

beforeAll(async () => {
  t = await createTestApp({ now });
  owner = `history-owner-${crypto.randomUUID()}`;
  ownerToken = await t.token(owner);
  other = await t.token(`history-other-${crypto.randomUUID()}`);
});
afterAll(() => t.close());

const memoriesOf = (cid: string) => `/v1/collections/${cid}/memories`;
const historyOf = (cid: string, id: string, query = "") => `${memoriesOf(cid)}/${id}/history${query}`;

async function add(cid: string, memories: unknown[], token = ownerToken) {
  const reply = await t.call("POST", memoriesOf(cid), { token, body: { memories } });
  expect(reply.status).toBe(201);
}

describe("history of one memory", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, ownerToken);
    await add(cid, [{ id: "m1", content: "the first words", metadata: { v: 1 } }]);
    expect((await t.call("PATCH", `${memoriesOf(cid)}/m1`, { token: ownerToken, body: { metadata: { v: 2 } } })).status).toBe(200);
    expect((await t.call("PATCH", `${memoriesOf(cid)}/m1`, { token: ownerToken, body: { content: "the second words" } })).status).toBe(200);
    await add(cid, [{ id: "m1", content: "the third words", metadata: { v: 3 } }]);
    expect((await t.call("DELETE", `${memoriesOf(cid)}/m1`, { token: ownerToken })).status).toBe(204);
  });

  test("records create, patch, patch, replace and delete in order, with old, new, when and by whom", async () => {
    const reply = await t.call("GET", historyOf(cid, "m1"), { token: ownerToken });
    expect(reply.status).toBe(200);
    expect(reply.body.memory_id).toBe("m1");
    expect(reply.body.next_cursor).toBeNull();
    const history = reply.body.history as { seq: number; op: string; at: string; by: string; old: unknown; new: unknown }[];
    expect(history.map((h) => h.op)).toEqual(["create", "patch", "patch", "replace", "delete"]);
    expect(history.every((h) => h.by === owner)).toBe(true);
    const seqs = history.map((h) => h.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const h of history) expect(new Date(h.at).toISOString()).toBe(h.at);
    const state = (content: string, v: number) => ({ content, metadata: { v }, expires_at: null });
    expect(history.map((h) => [h.old, h.new])).toEqual([
      [null, state("the first words", 1)],
      [state("the first words", 1), state("the first words", 2)],
      [state("the first words", 2), state("the second words", 2)],
      [state("the second words", 2), state("the third words", 3)],
      [state("the third words", 3), null],
    ]);
  });

  test("is kept after the delete (the memory itself is 404) and readable only by the collection's owner", async () => {
    expect((await t.call("GET", `${memoriesOf(cid)}/m1`, { token: ownerToken })).status).toBe(404);
    expect((await t.call("GET", historyOf(cid, "m1"), { token: ownerToken })).body.history).toHaveLength(5);
    const stranger = await t.call("GET", historyOf(cid, "m1"), { token: other });
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get("content-type")).toBe("application/problem+json");
    expect(stranger.body.detail).toBe("collection not found");
    expect((await t.call("GET", historyOf(cid, "never-written"), { token: ownerToken })).status).toBe(404);
    expect((await t.call("GET", historyOf(cid, "m1"))).status).toBe(401);
  });

  test("pages oldest first; each cursor continues where the last page ended", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const reply = await t.call("GET", historyOf(cid, "m1", query), { token: ownerToken });
      expect(reply.status).toBe(200);
      expect(reply.body.history.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.history.map((h: { op: string }) => h.op));
      cursor = reply.body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(["create", "patch", "patch", "replace", "delete"]);
    const bad = await t.call("GET", historyOf(cid, "m1", "?cursor=not-a-cursor"), { token: ownerToken });
    expect(bad.status).toBe(422);
  });
});

test("a write through an API key is recorded as its owner's", async () => {
  const cid = await newCollection(t, ownerToken);
  const key = await t.call("POST", "/v1/keys", { token: ownerToken, body: { name: "importer", scopes: ["read", "write"] } });
  expect(key.status).toBe(201);
  const reply = await t.call("POST", memoriesOf(cid), { token: key.body.key, body: { memories: [{ id: "k1", content: "via a key" }] } });
  expect(reply.status).toBe(201);
  const history = await t.call("GET", historyOf(cid, "k1"), { token: key.body.key });
  expect(history.body.history.map((h: { op: string; by: string }) => [h.op, h.by])).toEqual([["create", owner]]);
});

test("concurrent writes to one collection get a gap-free sequence, in the order the log reads back", async () => {
  const cid = await newCollection(t, ownerToken);
  const writers = Array.from({ length: 12 }, (_, i) => add(cid, [{ id: `c${i % 4}`, content: `write number ${i}` }]));
  await Promise.all(writers);
  const changes = await t.backend.history.changesSince(cid, 0, 100);
  expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  // per memory: a create, then replaces whose `old` is exactly the previous entry's `new`
  for (const id of ["c0", "c1", "c2", "c3"]) {
    const mine = changes.filter((c) => c.memory_id === id);
    expect(mine.map((c) => c.op)).toEqual(["create", "replace", "replace"]);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.old).toEqual(mine[i - 1]!.new);
  }
  expect(await t.backend.history.changesSince(cid, 10, 100)).toHaveLength(2);
});

test("deleting the collection deletes its history", async () => {
  const cid = await newCollection(t, ownerToken);
  await add(cid, [{ id: "gone", content: "soon without a collection" }]);
  expect(await t.backend.history.changesSince(cid, 0, 10)).toHaveLength(1);
  expect((await t.call("DELETE", `/v1/collections/${cid}`, { token: ownerToken })).status).toBe(204);
  expect(await t.backend.history.changesSince(cid, 0, 10)).toEqual([]);
  expect((await t.call("GET", historyOf(cid, "gone"), { token: ownerToken })).status).toBe(404);
});

test("entries older than the retention are pruned: a deleted memory's history is then gone, a live one's empty", async () => {
  const cid = await newCollection(t, ownerToken);
  await add(cid, [
    { id: "alive", content: "still here" },
    { id: "dead", content: "deleted soon" },
  ]);
  expect((await t.call("DELETE", `${memoriesOf(cid)}/dead`, { token: ownerToken })).status).toBe(204);
  const sweepers = startSweepers({
    history: t.backend.history,
    log: silentLogger,
    now,
    settings: { expirySweepIntervalSeconds: 0, historyRetentionDays: 30, historyPruneIntervalSeconds: 3600 },
  });
  try {
    // within the retention nothing goes
    offsetMs = 29 * 86_400_000;
    await sweepers.pruneHistory();
    expect((await t.call("GET", historyOf(cid, "dead"), { token: ownerToken })).body.history).toHaveLength(2);
    offsetMs = 31 * 86_400_000;
    expect(await sweepers.pruneHistory()).toBeGreaterThanOrEqual(3);
    expect((await t.call("GET", historyOf(cid, "dead"), { token: ownerToken })).status).toBe(404);
    const alive = await t.call("GET", historyOf(cid, "alive"), { token: ownerToken });
    expect(alive.status).toBe(200);
    expect(alive.body.history).toEqual([]);
  } finally {
    offsetMs = 0;
    await sweepers.stop();
  }
});
