/**
 * Near-duplicates on ingest (issue 19) through the API: `dedupe: "skip" | "merge"` on
 * POST …/memories against stored memories and within a batch, the threshold per collection and
 * per request, off by default, the answer's `dedupe` array, the merge in the history, items with
 * an id untouched, expired memories never matched, Idempotency-Key replays, 422s. The texts'
 * similarities under the real model are measured in the setup, not assumed. Runs on either
 * backend (TEST_BACKEND=production: the outbox is settled before each lookup).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { sharedEmbedder } from "../support/embedder";
import { cosine, DEFAULT_DEDUPE_THRESHOLD } from "../../src/domain/dedupe";

let t: TestApp;
let owner: string;
let token: string;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

/** A stored memory, its near-paraphrase, a loosely related text and an unrelated one. */
const MEETING = "The quarterly sales meeting is moved to Thursday at 3 pm.";
const PARAPHRASE = "The quarterly sales meeting has been moved to Thursday at 3 pm.";
const RELATED = "The sales meeting is on Friday.";
const UNRELATED = "My cat likes to sleep on the warm windowsill.";
/** A threshold between RELATED's similarity to MEETING and PARAPHRASE's. */
const LOOSE = 0.6;
let paraphraseSimilarity = 0;

beforeAll(async () => {
  t = await createTestApp({ now });
  owner = `dedupe-${crypto.randomUUID()}`;
  token = await t.token(owner);
  const embedder = await sharedEmbedder();
  const [meeting, paraphrase, related, unrelated] = await embedder.embed([MEETING, PARAPHRASE, RELATED, UNRELATED], "document");
  paraphraseSimilarity = cosine(meeting!, paraphrase!);
  // The premises of the tests below, with margins (measured: ~0.97, ~0.72, ~-0.02).
  expect(paraphraseSimilarity).toBeGreaterThan(DEFAULT_DEDUPE_THRESHOLD + 0.01);
  expect(paraphraseSimilarity).toBeLessThan(0.99);
  expect(cosine(meeting!, related!)).toBeGreaterThan(LOOSE + 0.05);
  expect(cosine(meeting!, related!)).toBeLessThan(DEFAULT_DEDUPE_THRESHOLD - 0.1);
  expect(cosine(meeting!, unrelated!)).toBeLessThan(LOOSE - 0.3);
  expect(cosine(paraphrase!, unrelated!)).toBeLessThan(LOOSE - 0.3);
  expect(cosine(related!, unrelated!)).toBeLessThan(LOOSE - 0.3);
});
afterAll(() => t.close());

const memoriesOf = (cid: string) => `/v1/collections/${cid}/memories`;

async function add(cid: string, body: Record<string, unknown>, headers?: Record<string, string>) {
  const reply = await t.call("POST", memoriesOf(cid), { token, body, headers });
  expect(reply.status).toBe(201);
  // Production: the vector index is fed by the outbox; the next lookup must see this write.
  await t.backend.settle();
  return reply.body as { ids: string[]; dedupe?: { index: number; action: string; matched_id?: string; similarity?: number }[] };
}

async function contentsOf(cid: string): Promise<string[]> {
  const reply = await t.call("GET", memoriesOf(cid), { token });
  expect(reply.status).toBe(200);
  return (reply.body.memories as { content: string }[]).map((m) => m.content);
}

const getMemory = async (cid: string, id: string) => (await t.call("GET", `${memoriesOf(cid)}/${id}`, { token })).body;

describe("off by default", () => {
  test("without dedupe, or with dedupe off, a paraphrase is written and the answer is { ids } alone", async () => {
    const cid = await newCollection(t, token);
    const first = await add(cid, { memories: [{ content: MEETING }] });
    expect(first).toEqual({ ids: [expect.any(String)] });
    const again = await add(cid, { memories: [{ content: PARAPHRASE }, { content: MEETING }] });
    expect(Object.keys(again)).toEqual(["ids"]);
    const off = await add(cid, { memories: [{ content: MEETING }], dedupe: "off", dedupe_threshold: 0.5 });
    expect(Object.keys(off)).toEqual(["ids"]);
    expect(new Set([...first.ids, ...again.ids, ...off.ids]).size).toBe(4);
    expect(await contentsOf(cid)).toEqual([MEETING, PARAPHRASE, MEETING, MEETING]);
  });
});

describe("skip", () => {
  test("a near-duplicate of a stored memory is not written; its id is the match's, the answer says so", async () => {
    const cid = await newCollection(t, token);
    const [stored] = (await add(cid, { memories: [{ content: MEETING }] })).ids;
    const reply = await add(cid, { memories: [{ content: PARAPHRASE }, { content: UNRELATED }], dedupe: "skip" });
    expect(reply.ids[0]).toBe(stored!);
    expect(reply.ids[1]).not.toBe(stored!);
    expect(reply.dedupe).toEqual([
      { index: 0, action: "skipped", matched_id: stored!, similarity: expect.any(Number) },
      { index: 1, action: "created" },
    ]);
    expect(reply.dedupe![0]!.similarity).toBeCloseTo(paraphraseSimilarity, 2);
    expect(await contentsOf(cid)).toEqual([MEETING, UNRELATED]);
  });

  test("two near-identical items of one batch: the later one matches the earlier", async () => {
    const cid = await newCollection(t, token);
    const reply = await add(cid, { memories: [{ content: MEETING }, { content: UNRELATED }, { content: PARAPHRASE }], dedupe: "skip" });
    expect(reply.ids[2]).toBe(reply.ids[0]!);
    expect(reply.dedupe!.map((d) => d.action)).toEqual(["created", "created", "skipped"]);
    expect(reply.dedupe![2]).toMatchObject({ index: 2, matched_id: reply.ids[0]! });
    expect(await contentsOf(cid)).toEqual([MEETING, UNRELATED]);
    // identical texts match at the highest threshold
    // (the model embeds one text slightly differently in different batches: the same content is 1 by definition)
    const same = await add(cid, { memories: [{ content: UNRELATED }, { content: PARAPHRASE }, { content: PARAPHRASE }], dedupe: "skip", dedupe_threshold: 1 });
    expect(same.dedupe).toEqual([
      { index: 0, action: "skipped", matched_id: reply.ids[1]!, similarity: 1 },
      { index: 1, action: "created" },
      { index: 2, action: "skipped", matched_id: same.ids[1]!, similarity: 1 },
    ]);
  });

  test("items with an id are upserts: never deduplicated, and written even when identical", async () => {
    const cid = await newCollection(t, token);
    await add(cid, { memories: [{ id: "a", content: MEETING }] });
    const reply = await add(cid, { memories: [{ id: "b", content: MEETING }, { id: "a", content: PARAPHRASE, metadata: { v: 2 } }], dedupe: "skip" });
    expect(reply.ids).toEqual(["b", "a"]);
    expect(reply.dedupe).toEqual([{ index: 0, action: "created" }, { index: 1, action: "created" }]);
    expect((await getMemory(cid, "a")).metadata).toEqual({ v: 2 });
    expect(await contentsOf(cid)).toEqual([PARAPHRASE, MEETING]);
  });

  test("a memory this batch replaces by id is matched as it will be, not as it was", async () => {
    const cid = await newCollection(t, token);
    await add(cid, { memories: [{ id: "a", content: MEETING }] });
    // "a" becomes UNRELATED: the paraphrase of its old content is new
    const reply = await add(cid, { memories: [{ id: "a", content: UNRELATED }, { content: PARAPHRASE }], dedupe: "skip" });
    expect(reply.dedupe!.map((d) => d.action)).toEqual(["created", "created"]);
    // ... and an item like the batch's "a" matches it
    const after = await add(cid, { memories: [{ id: "a", content: RELATED }, { content: RELATED }], dedupe: "skip" });
    expect(after.dedupe).toEqual([{ index: 0, action: "created" }, { index: 1, action: "skipped", matched_id: "a", similarity: expect.any(Number) }]);
  });

  test("an expired memory is never matched", async () => {
    const cid = await newCollection(t, token);
    await add(cid, { memories: [{ content: MEETING, ttl_seconds: 60 }] });
    offsetMs = 120_000;
    try {
      const reply = await add(cid, { memories: [{ content: PARAPHRASE }], dedupe: "skip" });
      expect(reply.dedupe).toEqual([{ index: 0, action: "created" }]);
      expect(await contentsOf(cid)).toEqual([PARAPHRASE]);
    } finally {
      offsetMs = 0;
    }
  });
});

describe("merge", () => {
  test("into a stored memory: content kept, metadata existing ⊕ new, updated_at moves, recorded as a patch by the caller", async () => {
    const cid = await newCollection(t, token);
    const [stored] = (await add(cid, { memories: [{ content: MEETING, metadata: { room: "A", owner: "ann" } }] })).ids;
    const before = await getMemory(cid, stored!);
    await Bun.sleep(5);
    const reply = await add(cid, { memories: [{ content: PARAPHRASE, metadata: { room: "B", notes: "bring slides" } }], dedupe: "merge" });
    expect(reply.ids).toEqual([stored!]);
    expect(reply.dedupe).toEqual([{ index: 0, action: "merged", matched_id: stored!, similarity: expect.any(Number) }]);
    const after = await getMemory(cid, stored!);
    expect(after).toMatchObject({ content: MEETING, metadata: { room: "B", owner: "ann", notes: "bring slides" }, created_at: before.created_at, expires_at: null });
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    expect(await contentsOf(cid)).toEqual([MEETING]);
    const history = (await t.call("GET", `${memoriesOf(cid)}/${stored}/history`, { token })).body.history as { op: string; by: string; new: unknown }[];
    expect(history.map((h) => [h.op, h.by])).toEqual([["create", owner], ["patch", owner]]);
    expect(history[1]!.new).toEqual({ content: MEETING, metadata: { room: "B", owner: "ann", notes: "bring slides" }, expires_at: null });
    // the merged metadata is searchable at once (no stale cached answer, indexes updated)
    const found = await t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "sales meeting", search_type: "keyword", filters: { metadata: { notes: "bring slides" } } } });
    expect(found.body.results.map((r: { id: string }) => r.id)).toEqual([stored!]);
  });

  test("within a batch: the earlier item takes the later one's metadata; several into one memory merge in order", async () => {
    const cid = await newCollection(t, token);
    const reply = await add(cid, {
      memories: [{ content: MEETING, metadata: { a: 1, b: 1 } }, { content: PARAPHRASE, metadata: { b: 2 } }, { content: MEETING, metadata: { c: 3 } }],
      dedupe: "merge",
    });
    expect(reply.ids).toEqual([reply.ids[0]!, reply.ids[0]!, reply.ids[0]!]);
    expect(reply.dedupe!.map((d) => d.action)).toEqual(["created", "merged", "merged"]);
    expect((await getMemory(cid, reply.ids[0]!)).metadata).toEqual({ a: 1, b: 2, c: 3 });
    const more = await add(cid, { memories: [{ content: PARAPHRASE, metadata: { d: 4 } }, { content: MEETING, metadata: { a: 5 } }], dedupe: "merge" });
    expect(more.ids).toEqual([reply.ids[0]!, reply.ids[0]!]);
    expect((await getMemory(cid, reply.ids[0]!)).metadata).toEqual({ a: 5, b: 2, c: 3, d: 4 });
    const history = (await t.call("GET", `${memoriesOf(cid)}/${reply.ids[0]}/history`, { token })).body.history as { op: string }[];
    expect(history.map((h) => h.op)).toEqual(["create", "patch"]);
  });

  test("expiry: the later of the two, no expiry being the latest", async () => {
    const cid = await newCollection(t, token);
    const soon = new Date(now() + 3_600_000).toISOString();
    const later = new Date(now() + 7_200_000).toISOString();
    const [id] = (await add(cid, { memories: [{ content: MEETING, expires_at: soon }] })).ids;
    await add(cid, { memories: [{ content: PARAPHRASE, expires_at: later }], dedupe: "merge" });
    expect(Date.parse((await getMemory(cid, id!)).expires_at)).toBe(Date.parse(later));
    await add(cid, { memories: [{ content: PARAPHRASE, expires_at: soon }], dedupe: "merge" });
    expect(Date.parse((await getMemory(cid, id!)).expires_at)).toBe(Date.parse(later));
    await add(cid, { memories: [{ content: PARAPHRASE }], dedupe: "merge" });
    expect((await getMemory(cid, id!)).expires_at).toBeNull();
    await add(cid, { memories: [{ content: PARAPHRASE, ttl_seconds: 60 }], dedupe: "merge" });
    expect((await getMemory(cid, id!)).expires_at).toBeNull();
  });

  test("a merge whose metadata would outgrow the limit is a 422 naming the item, and writes nothing", async () => {
    const cid = await newCollection(t, token);
    const [id] = (await add(cid, { memories: [{ content: MEETING, metadata: { big: "x".repeat(9_000) } }] })).ids;
    const reply = await t.call("POST", memoriesOf(cid), {
      token,
      body: { memories: [{ content: UNRELATED }, { content: PARAPHRASE, metadata: { more: "y".repeat(9_000) } }], dedupe: "merge" },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.field).toBe("memories[1].metadata");
    expect(reply.body.detail).toContain(`merged into memory ${id}`);
    expect(await contentsOf(cid)).toEqual([MEETING]);
  });
});

describe("threshold", () => {
  test("per request: a loose threshold makes a related text a duplicate; the default does not", async () => {
    const cid = await newCollection(t, token);
    const [stored] = (await add(cid, { memories: [{ content: MEETING }] })).ids;
    expect((await add(cid, { memories: [{ content: RELATED }], dedupe: "skip", dedupe_threshold: 0.99 })).dedupe![0]!.action).toBe("created");
    const loose = await add(cid, { memories: [{ content: RELATED }], dedupe: "skip", dedupe_threshold: LOOSE });
    // the nearest is the RELATED just written (identical), not MEETING
    expect(loose.dedupe![0]).toMatchObject({ action: "skipped" });
    expect(loose.dedupe![0]!.matched_id).not.toBe(stored!);
    const cid2 = await newCollection(t, token);
    await add(cid2, { memories: [{ content: MEETING }] });
    expect((await add(cid2, { memories: [{ content: RELATED }], dedupe: "skip" })).dedupe![0]!.action).toBe("created");
    const cid3 = await newCollection(t, token);
    const [stored3] = (await add(cid3, { memories: [{ content: MEETING }] })).ids;
    expect((await add(cid3, { memories: [{ content: RELATED }], dedupe: "skip", dedupe_threshold: LOOSE })).dedupe).toEqual([
      { index: 0, action: "skipped", matched_id: stored3!, similarity: expect.any(Number) },
    ]);
  });

  test("per collection: set at create, changed by PATCH (null restores the default), overridden by the request", async () => {
    const created = await t.call("POST", "/v1/collections", { token, body: { name: `loose-${crypto.randomUUID()}`, dedupe_threshold: LOOSE } });
    expect(created.status).toBe(201);
    expect(created.body.dedupe_threshold).toBe(LOOSE);
    const cid = created.body.id as string;
    expect((await t.call("GET", `/v1/collections/${cid}`, { token })).body.dedupe_threshold).toBe(LOOSE);
    const [stored] = (await add(cid, { memories: [{ content: MEETING }] })).ids;
    expect((await add(cid, { memories: [{ content: RELATED }], dedupe: "skip" })).dedupe).toEqual([
      { index: 0, action: "skipped", matched_id: stored!, similarity: expect.any(Number) },
    ]);
    // the request's threshold wins over the collection's
    expect((await add(cid, { memories: [{ content: RELATED }], dedupe: "skip", dedupe_threshold: DEFAULT_DEDUPE_THRESHOLD })).dedupe![0]!.action).toBe("created");

    const strict = await t.call("PATCH", `/v1/collections/${cid}`, { token, body: { dedupe_threshold: 0.995 } });
    expect(strict.status).toBe(200);
    expect(strict.body).toEqual({ ...created.body, dedupe_threshold: 0.995 });
    expect((await add(cid, { memories: [{ content: PARAPHRASE }], dedupe: "skip" })).dedupe![0]!.action).toBe("created");

    const reset = await t.call("PATCH", `/v1/collections/${cid}`, { token, body: { dedupe_threshold: null } });
    expect(reset.body.dedupe_threshold).toBe(DEFAULT_DEDUPE_THRESHOLD);
    // a collection created without one has the default
    const plain = await newCollection(t, token);
    expect((await t.call("GET", `/v1/collections/${plain}`, { token })).body.dedupe_threshold).toBe(DEFAULT_DEDUPE_THRESHOLD);
  });
});

describe("answers and errors", () => {
  test("an Idempotency-Key retry replays the first answer, dedupe included, and writes nothing", async () => {
    const cid = await newCollection(t, token);
    await add(cid, { memories: [{ content: MEETING }] });
    const body = { memories: [{ content: PARAPHRASE, metadata: { v: 1 } }, { content: UNRELATED }], dedupe: "merge" };
    const headers = { "idempotency-key": crypto.randomUUID() };
    const first = await t.call("POST", memoriesOf(cid), { token, body, headers });
    expect(first.status).toBe(201);
    const retry = await t.call("POST", memoriesOf(cid), { token, body, headers });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    expect(first.body.dedupe.map((d: { action: string }) => d.action)).toEqual(["merged", "created"]);
    expect(await contentsOf(cid)).toEqual([MEETING, UNRELATED]);
    const history = (await t.call("GET", `${memoriesOf(cid)}/${first.body.ids[0]}/history`, { token })).body.history as unknown[];
    expect(history).toHaveLength(2);
  });

  test("an unknown dedupe, or a threshold out of 0.5..1, is a 422 naming the field", async () => {
    const cid = await newCollection(t, token);
    const cases: [Record<string, unknown>, string][] = [
      [{ dedupe: "maybe" }, "dedupe"],
      [{ dedupe: true }, "dedupe"],
      [{ dedupe: "skip", dedupe_threshold: 0.4 }, "dedupe_threshold"],
      [{ dedupe: "skip", dedupe_threshold: 1.01 }, "dedupe_threshold"],
      [{ dedupe: "merge", dedupe_threshold: "high" }, "dedupe_threshold"],
    ];
    for (const [extra, field] of cases) {
      const reply = await t.call("POST", memoriesOf(cid), { token, body: { memories: [{ content: MEETING }], ...extra } });
      expect(reply.status).toBe(422);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(reply.body.field).toBe(field);
      expect(reply.body.detail).toStartWith(`${field}: `);
    }
    const create = await t.call("POST", "/v1/collections", { token, body: { name: `bad-${crypto.randomUUID()}`, dedupe_threshold: 0.3 } });
    expect(create.status).toBe(422);
    expect(create.body.detail).toContain("dedupe_threshold");
    for (const bad of [2, 0.1, "high"]) {
      const patch = await t.call("PATCH", `/v1/collections/${cid}`, { token, body: { dedupe_threshold: bad } });
      expect(patch.status).toBe(422);
      expect(patch.body).toMatchObject({ field: "dedupe_threshold", detail: "dedupe_threshold: must be a number from 0.5 to 1, or null" });
    }
    expect(await contentsOf(cid)).toEqual([]);
  });
});
