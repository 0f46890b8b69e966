/**
 * Export (NDJSON stream, filterable, resumable by cursor) and import (NDJSON, batched, with
 * progress) through the public API: a round trip into another collection keeps contents,
 * metadata, ids, graph facts and expiries, and the copy is searchable; bad lines are reported by
 * line number while the others are written. Runs on either backend (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, toReply, type TestApp } from "../support/app";
import type { MemoryStore } from "../../src/ports/memory-store";
import { DependencyUnavailableError } from "../../src/domain/errors";

const NDJSON = "application/x-ndjson";
let t: TestApp;
let token: string;
let otherToken: string;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
/** After this many list calls, the store fails (a dependency going away mid-export). */
let listFailsAfter = Number.POSITIVE_INFINITY;

beforeAll(async () => {
  t = await createTestApp({
    now,
    exportPageSize: 3,
    importBatchSize: 4,
    wrap: {
      memories: (inner: MemoryStore): MemoryStore =>
        Object.assign(Object.create(inner) as MemoryStore, {
          list: (cid: string, opts: Parameters<MemoryStore["list"]>[1]) => {
            if (listFailsAfter-- <= 0) throw new DependencyUnavailableError("postgres");
            return inner.list(cid, opts);
          },
        }),
    },
  });
  token = await t.token(`port-${crypto.randomUUID()}`, "enterprise");
  otherToken = await t.token(`port-other-${crypto.randomUUID()}`, "enterprise");
});
afterAll(() => t.close());

const lines = (text: string) => text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
const exportOf = (cid: string, query = "", as = token) => t.call("GET", `/v1/collections/${cid}/export${query}`, { token: as });
const importInto = (cid: string, body: string, as = token, contentType = NDJSON) =>
  t.call("POST", `/v1/collections/${cid}/import`, { token: as, raw: body, headers: { "content-type": contentType } });
const ndjson = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join("\n") + "\n";

async function listAll(cid: string) {
  const reply = await t.call("GET", `/v1/collections/${cid}/memories?limit=1000`, { token });
  expect(reply.status).toBe(200);
  return reply.body.memories as Record<string, unknown>[];
}

describe("export → import round trip", () => {
  let source: string;
  beforeAll(async () => {
    source = await newCollection(t, token);
    const memories = [
      { id: "m1", content: "The boiler is serviced every October by Acme Heating.", metadata: { room: "basement", n: 1 } },
      { id: "m2", content: "Ada Lovelace wrote the first program.", entities: [{ name: "Ada Lovelace", type: "person" }] },
      { id: "m3", content: "The garden hose is in the shed.", metadata: { room: "garden", tags: ["a", "b"] }, ttl_seconds: 86_400 },
      { id: "m4", content: "Dentist appointment on Tuesday.", metadata: { room: "none" } },
      { id: "m5", content: "The wifi password is on the fridge.", metadata: { room: "kitchen" } },
      { id: "m6", content: "This memory expires in a minute.", ttl_seconds: 60 },
      { content: "A memory without a client id.", metadata: { room: "attic" } },
    ];
    const reply = await t.call("POST", `/v1/collections/${source}/memories`, { token, body: { memories } });
    expect(reply.status).toBe(201);
    offsetMs = 120_000; // m6 has expired
  });
  afterAll(() => {
    offsetMs = 0;
  });

  test("streams every live memory as GET shows it, with a checkpoint a page and a final one", async () => {
    const reply = await exportOf(source);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe(NDJSON);
    expect(reply.headers.get("x-request-id")).toBeTruthy();
    const all = lines(reply.text);
    const memories = all.filter((l) => "content" in l);
    const listed = await listAll(source);
    expect(memories).toEqual(listed);
    expect(memories.map((m) => m.id)).not.toContain("m6");
    expect(memories).toHaveLength(6);
    // 6 memories, pages of 3: checkpoints after 3 and 6, then the empty last page's
    const checkpoints = all.filter((l) => !("content" in l));
    expect(checkpoints.at(-1)).toEqual({ next_cursor: null, exported: 6 });
    expect(checkpoints.slice(0, -1).every((c) => typeof c.next_cursor === "string")).toBe(true);
    expect(all.at(-1)).toEqual({ next_cursor: null, exported: 6 });
    expect(memories.find((m) => m.id === "m2").entities).toEqual([{ name: "Ada Lovelace", type: "person" }]);
  });

  test("imported into another collection, it equals the original: ids, contents, metadata, graph, expiry; and is searchable", async () => {
    const exported = await exportOf(source);
    const target = await newCollection(t, token);
    const reply = await importInto(target, exported.text);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe(NDJSON);
    const answer = lines(reply.text);
    const summary = answer.at(-1);
    expect(summary).toMatchObject({ done: true, imported: 6, failed: 0, errors: [] });
    expect(summary.skipped).toBeGreaterThanOrEqual(1); // the checkpoints
    // batches of 4: one progress line after 4 memories, one after 6
    expect(answer.slice(0, -1).map((p) => p.imported)).toEqual([4, 6]);
    const strip = (m: Record<string, unknown>) => {
      const { created_at: _c, updated_at: _u, ...rest } = m;
      return rest;
    };
    expect((await listAll(target)).map(strip)).toEqual((await listAll(source)).map(strip));
    await t.backend.settle();
    const search = await t.call("POST", "/v1/search", { token, body: { query: "when is the boiler serviced", collection_id: target } });
    expect(search.status).toBe(200);
    expect(search.body.results[0].id).toBe("m1");
    const history = await t.call("GET", `/v1/collections/${target}/memories/m1/history`, { token });
    expect(history.body.history.map((h: { op: string }) => h.op)).toEqual(["create"]);
  });

  test("importing the same export again is an upsert: nothing duplicated", async () => {
    const exported = await exportOf(source);
    const target = await newCollection(t, token);
    expect(lines((await importInto(target, exported.text)).text).at(-1).imported).toBe(6);
    expect(lines((await importInto(target, exported.text)).text).at(-1).imported).toBe(6);
    expect(await listAll(target)).toHaveLength(6);
  });

  test("a filter keeps only what it matches, exactly as list's filter", async () => {
    const filter = encodeURIComponent(JSON.stringify({ metadata: { room: { $in: ["basement", "kitchen", "garden"] } } }));
    const reply = await exportOf(source, `?filter=${filter}`);
    expect(reply.status).toBe(200);
    const memories = lines(reply.text).filter((l) => "content" in l);
    expect(memories.map((m) => m.id)).toEqual(["m1", "m3", "m5"]);
    expect(lines(reply.text).at(-1)).toEqual({ next_cursor: null, exported: 3 });
  });

  test("resumes from a checkpoint's cursor: the rest, and nothing before it", async () => {
    const full = lines((await exportOf(source)).text);
    const firstCheckpoint = full.find((l) => !("content" in l));
    expect(typeof firstCheckpoint.next_cursor).toBe("string");
    const rest = lines((await exportOf(source, `?cursor=${encodeURIComponent(firstCheckpoint.next_cursor)}`)).text);
    const ids = (ls: any[]) => ls.filter((l) => "content" in l).map((l) => l.id);
    expect(ids(rest)).toEqual(ids(full).slice(3));
    expect(rest.at(-1).next_cursor).toBeNull();
  });

  test("a failure after the stream began ends it with an error line and no final checkpoint", async () => {
    listFailsAfter = 1; // the first page is read, the second fails
    try {
      const reply = await exportOf(source);
      expect(reply.status).toBe(200);
      const all = lines(reply.text);
      expect(all.at(-1).error).toMatchObject({ status: 503, code: "dependency_unavailable" });
      expect(all.some((l) => l.next_cursor === null)).toBe(false);
      expect(all.filter((l) => "content" in l)).toHaveLength(3);
    } finally {
      listFailsAfter = Number.POSITIVE_INFINITY;
    }
  });
});

describe("import", () => {
  test("bad lines are reported by line number and field; the good ones are written", async () => {
    const cid = await newCollection(t, token);
    const body = [
      JSON.stringify({ id: "a", content: "first good line" }),
      "{not json",
      JSON.stringify({ id: "b", content: "" }),
      "",
      JSON.stringify({ id: "c", content: "third good line", metadata: { k: 1 }, colour: "red" }),
      JSON.stringify([1, 2]),
      JSON.stringify({ id: "d", content: "past expiry", expires_at: "2001-01-01T00:00:00Z" }),
      JSON.stringify({ id: "e", content: "second good line", expires_at: null, created_at: "2020-01-01T00:00:00.000Z" }),
      JSON.stringify({ id: "bad id!", content: "bad id" }),
    ].join("\n");
    const reply = await importInto(cid, body);
    expect(reply.status).toBe(200);
    const summary = lines(reply.text).at(-1);
    expect(summary).toMatchObject({ done: true, lines: 9, skipped: 1, imported: 2, failed: 6 });
    const byLine = Object.fromEntries(summary.errors.map((e: { line: number; detail: string }) => [e.line, e.detail]));
    expect(Object.keys(byLine).map(Number)).toEqual([2, 3, 5, 6, 7, 9]);
    expect(byLine[2]).toBe("line 2: is not valid JSON");
    expect(byLine[3]).toStartWith("line 3: content: ");
    expect(byLine[5]).toContain("line 5: ");
    expect(byLine[5]).toContain("colour");
    expect(byLine[6]).toBe("line 6: must be a JSON object (one memory)");
    expect(byLine[7]).toStartWith("line 7: expires_at: must be in the future");
    expect(byLine[9]).toStartWith("line 9: id: ");
    expect((await listAll(cid)).map((m) => m.id)).toEqual(["a", "e"]);
  });

  test("an empty body, or one of checkpoints only, imports nothing", async () => {
    const cid = await newCollection(t, token);
    expect(lines((await importInto(cid, "")).text)).toEqual([{ done: true, lines: 0, skipped: 0, imported: 0, failed: 0, errors: [] }]);
    const summary = lines((await importInto(cid, ndjson([{ next_cursor: null, exported: 0 }]))).text).at(-1);
    expect(summary).toMatchObject({ done: true, skipped: 1, imported: 0 });
  });

  test("an export's error line is a bad line saying the export was incomplete", async () => {
    const cid = await newCollection(t, token);
    const summary = lines((await importInto(cid, ndjson([{ content: "kept" }, { error: { status: 503 } }]))).text).at(-1);
    expect(summary.imported).toBe(1);
    expect(summary.errors[0].detail).toContain("line 2: error: an export's error line");
  });

  test("a body that is not NDJSON is a 415 problem", async () => {
    const cid = await newCollection(t, token);
    const reply = await importInto(cid, JSON.stringify({ content: "x" }), token, "application/json");
    expect(reply.status).toBe(415);
    expect(reply.headers.get("content-type")).toContain("application/problem+json");
    expect(reply.body.code).toBe("unsupported_media_type");
    expect(reply.body.detail).toContain(NDJSON);
  });

  test("a body over MAX_BODY_BYTES is a 413 problem", async () => {
    const cid = await newCollection(t, token);
    const big = ndjson(Array.from({ length: 40 }, (_, i) => ({ content: `${i} ${"x".repeat(30_000)}` })));
    const reply = await importInto(cid, big);
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe("payload_too_large");
  });
});

describe("problems before the first byte", () => {
  test("another user's collection (or none) is a 404 for both", async () => {
    const cid = await newCollection(t, token);
    for (const reply of [
      await exportOf(cid, "", otherToken),
      await importInto(cid, ndjson([{ content: "x" }]), otherToken),
      await exportOf("no-such-collection"),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.headers.get("content-type")).toContain("application/problem+json");
      expect(reply.body.code).toBe("not_found");
    }
    expect(await listAll(cid)).toHaveLength(0);
  });

  test("a bad filter or cursor is a 422 naming it", async () => {
    const cid = await newCollection(t, token);
    const badFilter = await exportOf(cid, `?filter=${encodeURIComponent(JSON.stringify({ metadata: { a: { $regex: "x" } } }))}`);
    expect(badFilter.status).toBe(422);
    expect(badFilter.body.detail).toContain("query.filter");
    const notJson = await exportOf(cid, "?filter=%7Bnope");
    expect(notJson.status).toBe(422);
    expect(notJson.body.field).toBe("query.filter");
    const badCursor = await exportOf(cid, "?cursor=not-a-cursor");
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.field).toBe("query.cursor");
  });

  test("without a token, 401", async () => {
    const reply = await toReply(await t.app.handle(new Request("http://localhost/v1/collections/x/export")));
    expect(reply.status).toBe(401);
  });
});
