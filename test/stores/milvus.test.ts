import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { silentLogger } from "../../src/log.ts";
import { compileExpression } from "../../src/stores/milvus/expression.ts";
import { type MilvusIndex, openMilvusIndex } from "../../src/stores/milvus/index.ts";
import { numberLiteral, stringLiteral } from "../../src/stores/milvus/literals.ts";
import { MilvusConnection } from "../../src/stores/milvus/connection.ts";
import { projectMetadata } from "../../src/stores/milvus/projection.ts";
import { MilvusVectorIndex } from "../../src/stores/milvus/vector-index.ts";
import { DependencyUnavailableError } from "../../src/domain/errors.ts";
import type { Metadata, Scalar } from "../../src/domain/memory.ts";
import { MATCH_ALL, type SearchFilter } from "../../src/domain/search.ts";
import { parseFilters } from "../../src/search/filters/parse.ts";
import type { IndexedMemory } from "../../src/ports/index-writer.ts";
import { runVectorIndexContract } from "../ports/vector-index.contract.ts";
import { queryVector, similar } from "../ports/vectors.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { silentServer } from "../support/silent-server.ts";
import { RUN_ID, sharedOutboxStores } from "./service-setup.ts";

const DIMENSIONS = 16;
const ADDRESS = productionConfig.milvusAddress;
const NONE: SearchFilter = MATCH_ALL;
const eq = (key: string, value: Scalar): SearchFilter => ({ kind: "metadata", key, op: "eq", value });
const oneOf = (key: string, values: Scalar[]): SearchFilter => ({ kind: "metadata", key, op: "in", values });
/** A v1 range: the bounds given, both inclusive. */
const between = (key: string, gte?: string | number, lte?: string | number): SearchFilter => ({
  kind: "and",
  nodes: [
    ...(gte === undefined ? [] : [{ kind: "metadata" as const, key, op: "gte" as const, value: gte }]),
    ...(lte === undefined ? [] : [{ kind: "metadata" as const, key, op: "lte" as const, value: lte }]),
  ],
});

const CONTRACT_DIMENSIONS = 384;
/** This run's own Milvus collection and Postgres schema: a shared stack is fine, and both are dropped after. */
const CONTRACT_COLLECTION = `contract_${RUN_ID}`;

const runContract = await servicesAvailable("milvus contract", ["milvus", "postgres"]);

describe.if(runContract)("milvus", () => {
  /** PostgreSQL as the source of truth feeding Milvus through its outbox, as in production. */
  const shared = sharedOutboxStores({
    schema: `milvus_contract_${RUN_ID}`,
    poolSize: 6,
    dimensions: CONTRACT_DIMENSIONS,
    drainMs: 15_000,
    openIndexes: async () => {
      const index = await openMilvusIndex({ address: ADDRESS, collection: CONTRACT_COLLECTION, dimensions: CONTRACT_DIMENSIONS, log: silentLogger });
      await index.warm();
      const close = async () => {
        await index.close();
        const client = new MilvusClient({ address: ADDRESS, logLevel: "error" });
        await client.dropCollection({ collection_name: CONTRACT_COLLECTION });
        client.closeConnection();
      };
      return { indexes: index, writers: [index.writer], close };
    },
  });

  runVectorIndexContract("milvus VectorIndex (fed by the postgres outbox)", async () => {
    const fixture = await shared();
    // as production wires it: filters a Milvus expression cannot state are checked on PostgreSQL
    return { ...fixture, vectors: fixture.indexes.vectorsCheckingWith(fixture.memories) };
  });
});

// Milvus specifics: expression literals, the search fallback, the index's life, failure modes.

/** Keys and values that would change an expression if spliced raw. */
const HOSTILE = [
  `a"b`,
  `a\\b`,
  `x"]`,
  `"]["x`,
  `a][b`,
  `x" || collection_id != "`,
  `x' || true || '`,
  `\\"`,
  `\\u0041`,
  `tab\tnew\nline\r`,
  `ünï☃`,
  `emoji😀`,
  `%_like*`,
  ``,
];

describe("milvus expression literals (no server)", () => {
  test("a string literal is printable ASCII, quoted, with every quote and backslash escaped", () => {
    for (const value of HOSTILE) {
      const literal = stringLiteral(value);
      expect(literal).toMatch(/^"(?:[^"\\\x00-\x1f\x7f-\uffff]|\\["\\]|\\u[0-9a-f]{4}|\\U[0-9a-f]{8})*"$/);
    }
    expect(stringLiteral(`a"b\\c`)).toBe(`"a\\"b\\\\c"`);
    expect(stringLiteral("é😀\n")).toBe(`"\\u00e9\\U0001f600\\u000a"`);
    expect(() => stringLiteral("\ud800")).toThrow(RangeError);
  });

  test("number literals are always floats Milvus can parse", () => {
    expect(numberLiteral(3)).toBe("3.0");
    expect(numberLiteral(-0)).toBe("0.0");
    expect(numberLiteral(2.5)).toBe("2.5");
    expect(numberLiteral(1e20)).toBe("100000000000000000000.0");
    expect(numberLiteral(1e21)).toBe("1e+21");
    expect(numberLiteral(-1e-7)).toBe("-1e-7");
    expect(() => numberLiteral(Number.NaN)).toThrow(RangeError);
  });

  test("the collection comes first; hostile keys become hex, values literals", () => {
    const compiled = compileExpression(`c" || "1" == "1`, eq(`x" || collection_id != "`, `y" || "1" == "1`));
    expect(compiled).toEqual({
      expr: `collection_id == "c\\" || \\"1\\" == \\"1" && (metadata["s7822207c7c20636f6c6c656374696f6e5f696420213d2022"] == "y\\" || \\"1\\" == \\"1")`,
      exact: true,
    });
  });

  test("filters that match nothing are answered without Milvus", () => {
    expect(compileExpression("c", oneOf("k", []))).toBeNull();
    expect(compileExpression("c", { kind: "not", node: between("k") })).toBeNull();
    expect(compileExpression("c", { kind: "or", nodes: [oneOf("k", []), eq("k", Number.NaN)] })).toBeNull();
    expect(compileExpression("c", eq("k", Number.NaN))).toBeNull();
    expect(compileExpression("c", { kind: "and", nodes: [eq("a", 1), { kind: "not", node: { kind: "or", nodes: [eq("b", 1), oneOf("b", [1, 2])] } }, eq("a", Number.NaN)] })).toBeNull();
    expect(compileExpression("c", between("k"))).toEqual({ expr: `collection_id == "c"`, exact: true });
  });

  test("created_at bounds are in ms; ne, nin and not are negations", () => {
    const compile = (body: unknown) => compileExpression("c", parseFilters(body));
    expect(compile({ created_after: "2024-01-01T00:00:00.123Z", created_before: "2024-01-02T00:00:00Z" })).toEqual({
      expr: `collection_id == "c" && ((created_at > 1704067200123 && created_at < 1704153600000))`,
      exact: true,
    });
    expect(compile({ metadata: { a: { $ne: 1 } }, $not: { metadata: { b: { $nin: ["x", true] } } } })?.expr).toBe(
      `collection_id == "c" && ((not (metadata["n61"] == 1.0) && not (not ((metadata["s62"] == "x" || metadata["b62"] == true)))))`,
    );
    expect(() => compileExpression("c", { kind: "created_at", op: "gt", value: "yesterday" })).toThrow(RangeError);
  });

  test("what an expression cannot state is relaxed (weaker, never stronger) and flagged for checking", () => {
    const compile = (body: unknown) => compileExpression("c", parseFilters(body));
    expect(compile({ metadata: { tags: { $contains: "x" } } })).toEqual({ expr: `collection_id == "c"`, exact: false });
    expect(compile({ metadata: { a: 1, t: { $exists: true } } })).toEqual({ expr: `collection_id == "c" && (metadata["n61"] == 1.0)`, exact: false });
    // under a not, the condition relaxes to false, so the not holds: still implied by the filter
    expect(compile({ metadata: { a: 1 }, $not: { metadata: { a: 1, t: { $exists: true } } } })).toEqual({
      expr: `collection_id == "c" && (metadata["n61"] == 1.0)`,
      exact: false,
    });
    expect(compile({ $or: [{ updated_at: { $gt: "2024-01-01" } }, { metadata: { a: 1 } }] })).toEqual({ expr: `collection_id == "c"`, exact: false });
  });

  test("the projection keeps top-level scalars by kind, under hex keys", () => {
    expect(projectMetadata({ s: "x", n: 1, b: false, z: -0, o: { n: 1 }, a: [1], nul: null })).toEqual({
      s73: "x",
      n6e: 1,
      b62: false,
      n7a: 0,
    });
  });
});

describe("milvus search fallback (no server)", () => {
  /** A connection whose ANN search misses rows: it answers only `annIds`, while `rows` all match. */
  const fake = (rows: { id: string; embedding: number[] }[], annIds: string[], calls: string[]) =>
    ({
      collection: "memories",
      call: async (what: string, run: (timeout: number) => Promise<unknown>) => {
        calls.push(what);
        return run(1000);
      },
      count: async () => {
        calls.push("count");
        return rows.length;
      },
      client: {
        search: async (request: { params: { ef: number } }) => ({
          status: { error_code: "Success" },
          results: annIds.map((id) => ({ id: `c/${id}`, score: 0.5, ef: request.params.ef })),
        }),
        query: async () => ({
          status: { error_code: "Success" },
          data: rows.map((r) => ({ pk: `c/${r.id}`, embedding: r.embedding })),
        }),
      },
    }) as unknown as MilvusConnection;
  const vector = (x: number, y: number) => [x, y, 0, 0];
  const q = Float32Array.from(vector(1, 0));

  test("a short ANN answer is searched again, then answered exactly from the matching rows", async () => {
    const calls: string[] = [];
    const rows = [
      { id: "far", embedding: vector(0, 1) },
      { id: "best", embedding: vector(1, 0) },
      { id: "mid", embedding: vector(1, 1) },
    ];
    const index = new MilvusVectorIndex(fake(rows, ["mid"], calls), 4, { ef: 64, consistency: 2 }, silentLogger);
    const hits = await index.search("c", q, 2, NONE);
    expect(hits.map((h) => h.id)).toEqual(["best", "mid"]);
    expect(hits[1]!.score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(calls).toEqual(["search", "count", "search", "query"]);
  });

  test("a full answer costs one search; a short one that is complete costs one count more", async () => {
    const calls: string[] = [];
    const rows = [
      { id: "a", embedding: vector(1, 0) },
      { id: "b", embedding: vector(0, 1) },
    ];
    const index = new MilvusVectorIndex(fake(rows, ["a", "b"], calls), 4, { ef: 64, consistency: 2 }, silentLogger);
    expect((await index.search("c", q, 2, NONE)).map((h) => h.id)).toEqual(["a", "b"]);
    expect(calls).toEqual(["search"]);
    calls.length = 0;
    expect((await index.search("c", q, 5, NONE)).map((h) => h.id)).toEqual(["a", "b"]);
    expect(calls).toEqual(["search", "count"]);
  });
});

const runLive = await servicesAvailable("milvus store", ["milvus"]);

describe.if(runLive)("milvus index (live)", () => {
  const created: string[] = [];
  const open = async (suffix: string, extra: Partial<Parameters<typeof openMilvusIndex>[0]> = {}) => {
    const collection = `store_${RUN_ID}_${suffix}`;
    if (!created.includes(collection)) created.push(collection);
    return openMilvusIndex({ address: ADDRESS, collection, dimensions: DIMENSIONS, log: silentLogger, ...extra });
  };
  const memory = (collectionId: string, id: string, similarity: number, axis: number, metadata: Metadata = {}, createdAt = "2024-05-01T00:00:00.000Z"): IndexedMemory => ({
    collection_id: collectionId,
    id,
    content: "not stored in milvus",
    metadata,
    embedding: similar(DIMENSIONS, similarity, axis),
    created_at: createdAt,
  });
  const ids = async (index: MilvusIndex, collectionId: string, filter: SearchFilter = NONE, k = 100) =>
    (await index.vectors.search(collectionId, queryVector(DIMENSIONS), k, filter)).map((h) => h.id);
  // made in beforeAll: a describe body runs even when the block is skipped, and a client made
  // there would reject (14 UNAVAILABLE) in whichever test runs next when Milvus is down
  let admin: MilvusClient;
  let index: MilvusIndex;

  beforeAll(async () => {
    admin = new MilvusClient({ address: ADDRESS, logLevel: "error" });
    index = await open("main");
    await index.warm();
  });

  afterAll(async () => {
    await index.close();
    for (const collection_name of created) await admin.dropCollection({ collection_name });
    admin.closeConnection();
  });

  test("hostile metadata keys and values match exactly themselves, in their collection only", async () => {
    const c = crypto.randomUUID();
    const other = crypto.randomUUID();
    await index.writer.upsert([
      ...HOSTILE.map((h, i) => memory(c, `v${i}`, 0.9 - i * 0.01, i + 1, { v: h, [h]: "keyed" })),
      memory(other, "leak", 0.99, 30, { v: "x" }),
    ]);
    for (const [i, h] of HOSTILE.entries()) {
      expect(await ids(index, c, eq("v", h))).toEqual([`v${i}`]);
      expect(await ids(index, c, eq(h, "keyed"))).toEqual([`v${i}`]);
      expect(await ids(index, c, oneOf("v", [h, "zzz"]))).toEqual([`v${i}`]);
    }
    // A value that tries to widen the expression to other collections finds nothing.
    expect(await ids(index, c, eq("v", `x" || collection_id != "`))).toEqual(["v5"]);
    expect(await ids(index, c, eq("v", `zz" || metadata["v"] == "x`))).toEqual([]);
    expect(await ids(index, `${c}" || collection_id != "`, NONE)).toEqual([]);
  });

  test("memory ids are stored literally, whatever characters they hold", async () => {
    const c = crypto.randomUUID();
    const weird = [`a"b`, `c/d`, `e\\f`, `'); DROP--`, `ünï`, `x" || pk != "`];
    await index.writer.upsert(weird.map((id, i) => memory(c, id, 0.9 - i * 0.1, i + 1)));
    expect(await ids(index, c)).toEqual(weird);
    await index.writer.delete(c, [weird[0]!, weird[5]!]);
    expect(await ids(index, c)).toEqual(weird.slice(1, 5));
  });

  test("numbers compare numerically whatever their JSON form; strings by code point; booleans as false < true", async () => {
    const c = crypto.randomUUID();
    const values: [string, unknown][] = [
      ["int3", 3],
      ["neg", -2.5],
      ["big", 1e20],
      ["tiny", 0.1],
      ["zero", -0],
      ["s_z", "z"],
      ["s_e", "é"],
      ["s_fffd", "\ufffd"],
      ["s_emoji", "😀"],
      ["t", true],
      ["f", false],
      ["str3", "3"],
    ];
    await index.writer.upsert(values.map(([id, v], i) => memory(c, id, 0.9 - i * 0.01, i + 1, { v })));
    const find = async (filter: SearchFilter) => (await ids(index, c, filter)).sort();
    expect(await find(eq("v", 3.0))).toEqual(["int3"]);
    expect(await find(eq("v", 0))).toEqual(["zero"]);
    expect(await find(eq("v", 1e20))).toEqual(["big"]);
    expect(await find(oneOf("v", [3, 0.1, -2.5]))).toEqual(["int3", "neg", "tiny"]);
    expect(await find(between("v", -3, 0.1))).toEqual(["neg", "tiny", "zero"]);
    expect(await find(between("v", 3))).toEqual(["big", "int3"]);
    // UTF-8 byte order is code point order: z < é < U+FFFD < 😀 (UTF-16 would put 😀 before U+FFFD).
    expect(await find(between("v", "\ufffd"))).toEqual(["s_emoji", "s_fffd"]);
    expect(await find(between("v", "z", "é"))).toEqual(["s_e", "s_z"]);
    // ne / nin are typed negations: 3 is not "3", and every other value passes
    expect(await find({ kind: "metadata", key: "v", op: "ne", value: 3 })).toHaveLength(values.length - 1);
    expect(await find({ kind: "metadata", key: "v", op: "nin", values: [3, "3", true] })).toHaveLength(values.length - 3);
    expect(await find(oneOf("v", [false, "3"]))).toEqual(["f", "str3"]);
  });

  test("upsert is idempotent and replaces; duplicates in one batch keep the last state", async () => {
    const c = crypto.randomUUID();
    const first = memory(c, "m", 0.5, 1, { v: 1 });
    await index.writer.upsert([first]);
    await index.writer.upsert([first]);
    await index.writer.upsert([memory(c, "m", 0.2, 2, { v: 2 }), memory(c, "m", 0.8, 3, { v: 3 }), memory(c, "n", 0.1, 4)]);
    const hits = await index.vectors.search(c, queryVector(DIMENSIONS), 10, NONE);
    expect(hits.map((h) => h.id)).toEqual(["m", "n"]);
    expect(hits[0]!.score).toBeCloseTo(0.8, 4);
    expect(await ids(index, c, eq("v", 3))).toEqual(["m"]);
    expect(await ids(index, c, eq("v", 1))).toEqual([]);
    await index.writer.upsert([]);
  });

  test("delete and deleteCollection are idempotent and stay in their collection", async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    await index.writer.upsert([
      ...Array.from({ length: 30 }, (_, i) => memory(a, `m${i}`, 0.9 - i * 0.01, i + 1)),
      ...Array.from({ length: 5 }, (_, i) => memory(b, `m${i}`, 0.9 - i * 0.01, i + 1)),
    ]);
    await index.writer.delete(a, ["m0", "m1", "missing"]);
    await index.writer.delete(a, ["m0", "m1", "missing"]);
    await index.writer.delete(a, []);
    expect(await ids(index, a)).toHaveLength(28);
    expect(await ids(index, b)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    await index.writer.deleteCollection(a);
    await index.writer.deleteCollection(a);
    expect(await ids(index, a)).toEqual([]);
    expect(await ids(index, b)).toHaveLength(5);
  });

  test("a write is searchable as soon as the writer resolves (visibility: write)", async () => {
    const c = crypto.randomUUID();
    for (let i = 0; i < 5; i++) {
      await index.writer.upsert([memory(c, `w${i}`, 0.5 + i * 0.05, i + 1)]);
      expect((await ids(index, c))[0]).toBe(`w${i}`);
      await index.writer.delete(c, [`w${i}`]);
      expect(await ids(index, c)).not.toContain(`w${i}`);
    }
  });

  test("visibility: search makes searches Strong instead", async () => {
    const strong = await open("main", { visibility: "search" });
    await strong.warm();
    try {
      const c = crypto.randomUUID();
      await strong.writer.upsert([memory(c, "s", 0.7, 1)]);
      expect(await ids(strong, c)).toEqual(["s"]);
    } finally {
      await strong.close();
    }
  });

  test("creation is idempotent when workers start at once; other dimensions are refused", async () => {
    const opened = await Promise.all([open("race"), open("race"), open("race")]);
    await Promise.all(opened.map((i) => i.warm()));
    const again = await open("race");
    const c = crypto.randomUUID();
    await opened[0]!.writer.upsert([memory(c, "x", 0.6, 1)]);
    await again.warm(); // loaded already by the others: at once
    expect(await ids(again, c)).toEqual(["x"]);
    await Promise.all([...opened, again].map((i) => i.close()));
    const describe = await admin.describeIndex({ collection_name: `store_${RUN_ID}_race`, field_name: "embedding" });
    expect(describe.index_descriptions).toHaveLength(1);
    const refused = await open("race", { dimensions: 32 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error).message) + String((refused as Error).cause ?? "")).toMatch(/16-dimensional/);
  }, 30_000);

  test("health is ready only once warm, and recovers when the collection is released", async () => {
    const fresh = await open("health");
    try {
      const before = await fresh.health.check();
      expect(before).toMatchObject({ name: "milvus", ready: false });
      await fresh.warm();
      const after = await fresh.health.check();
      expect(after).toMatchObject({ name: "milvus", ready: true });
      expect(after.latency_ms).toBeGreaterThanOrEqual(0);

      await admin.releaseCollection({ collection_name: `store_${RUN_ID}_health` });
      const error = await fresh.vectors.search(crypto.randomUUID(), queryVector(DIMENSIONS), 5, NONE).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect((error as DependencyUnavailableError).dependency).toBe("milvus");
      // The failed search started a background reload.
      for (let i = 0; i < 100 && !(await fresh.health.check()).ready; i++) await Bun.sleep(200);
      expect((await fresh.health.check()).ready).toBe(true);
      expect(await fresh.vectors.search(crypto.randomUUID(), queryVector(DIMENSIONS), 5, NONE)).toEqual([]);
    } finally {
      await fresh.close();
      await fresh.close();
    }
  }, 30_000);

  test("rejects a query vector of the wrong dimension", async () => {
    await expect(index.vectors.search("c", new Float32Array(8), 5, NONE)).rejects.toThrow(RangeError);
  });
});

describe("milvus unreachable", () => {
  // What failed is read from the error's cause, not from elapsed time (tests assert no wall-clock
  // times); a call that hung instead would run into the test's own timeout.
  const causeOf = (error: unknown) => String((error as Error & { cause?: unknown }).cause);

  test("nothing listening: DependencyUnavailableError from the refused connection, not from a timeout", async () => {
    const error = await openMilvusIndex({ address: "127.0.0.1:1", dimensions: 8, log: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe("milvus");
    expect(causeOf(error)).toMatch(/UNAVAILABLE|ECONNREFUSED|No connection established/);
    expect(causeOf(error)).not.toContain("took longer than");
  }, 10_000);

  test("a server that accepts but never answers: DependencyUnavailableError from the configured timeout", async () => {
    const silent = await silentServer();
    try {
      const error = await openMilvusIndex({ address: `127.0.0.1:${silent.port}`, dimensions: 8, log: silentLogger, timeoutMs: 500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(causeOf(error)).toMatch(/took longer than 500 ms|DEADLINE_EXCEEDED/);
    } finally {
      silent.close();
    }
  }, 10_000);
});

describe("milvus fail-fast after a timeout (no server)", () => {
  const hang = () => new Promise<never>(() => {});
  const open = () =>
    new MilvusConnection({
      address: "127.0.0.1:1", // nothing listens: the SDK's background connect fails, calls here use their own `run`
      collection: "memories",
      timeoutMs: 200,
      loadTimeoutMs: 1000,
      replicas: 1,
      log: silentLogger,
    });

  test("after a search timed out, searches are refused at once while one probes; a success ends it", async () => {
    const conn = open();
    const first = await conn.call("search", hang, { failFast: true }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(DependencyUnavailableError);

    const settled: string[] = [];
    const probe = conn.call("search", hang, { failFast: true }).catch((e: unknown) => (settled.push("probe"), e));
    const refused = conn.call("search", async () => 1, { failFast: true }).catch((e: unknown) => (settled.push("refused"), e));
    // calls off the request path (writes, loads) are never refused
    expect(await conn.call("insert", async () => "written")).toBe("written");
    const [probeError, refusedError] = await Promise.all([probe, refused]);
    expect(settled).toEqual(["refused", "probe"]);
    expect(refusedError).toBeInstanceOf(DependencyUnavailableError);
    expect(String((refusedError as Error & { cause?: Error }).cause ?? refusedError)).toContain("not answering");
    expect(probeError).toBeInstanceOf(DependencyUnavailableError);

    // the next search probes again; it succeeds, and searches flow again
    expect(await conn.call("search", async () => 42, { failFast: true })).toBe(42);
    expect(await Promise.all([conn.call("search", async () => 1, { failFast: true }), conn.call("search", async () => 2, { failFast: true })])).toEqual([1, 2]);
    conn.close();
  });
});
