import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createOnnxEmbedder, embedderStats, type OnnxEmbedder } from "../../src/ml/embedder";
import { ModelFolderError } from "../../src/ml/model-folder";
import { QueueFullError } from "../../src/domain/errors";
import { sharedEmbedder, TEST_MODEL_DIR } from "../support/embedder";

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

let embedder: OnnxEmbedder;
beforeAll(async () => {
  embedder = await sharedEmbedder();
});

describe("onnx embedder: model behaviour", () => {
  test("declares the model and gives 384-d unit Float32Array vectors, one per text, in order", async () => {
    expect(embedder.model).toBe("all-minilm-l6-v2");
    expect(embedder.dimensions).toBe(384);
    const texts = ["first text", "", "a third, somewhat longer text about memories", "ünïcödé ✓ 日本語"];
    const vs = await embedder.embed(texts, "document");
    expect(vs).toHaveLength(texts.length);
    for (const v of vs) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(384);
      expect(Math.abs(Math.sqrt(dot(v, v)) - 1)).toBeLessThan(1e-4);
    }
    expect(dot(vs[0]!, vs[2]!)).toBeLessThan(0.99); // different texts, different vectors
    expect(await embedder.embed([], "query")).toEqual([]);
  });

  // Calibrated on the real model (all-MiniLM-L6-v2 q8): paraphrases 0.66–0.68, the looser
  // "dark mode" pair 0.38, unrelated pairs −0.03–0.09.
  const cases: Array<[string, string, string, number]> = [
    ["How do I reset my password?", "I forgot my login credentials", "The cat sat on the mat", 0.5],
    ["The weather is lovely today", "It is sunny and warm outside", "Quarterly revenue grew by ten percent", 0.5],
    ["My favourite food is sushi", "I love eating Japanese raw fish dishes", "The train to Berlin leaves at noon", 0.5],
    ["The user prefers dark mode in the editor", "They like a dark theme for their IDE", "The invoice is due next Friday", 0.3],
  ];
  for (const [query, paraphrase, unrelated, floor] of cases) {
    test(`paraphrase close, unrelated far: "${query}"`, async () => {
      const [q] = await embedder.embed([query], "query");
      const [p, u] = await embedder.embed([paraphrase, unrelated], "document");
      const close = dot(q!, p!);
      const far = dot(q!, u!);
      expect(close).toBeGreaterThan(floor);
      expect(far).toBeLessThan(0.2);
      expect(close - far).toBeGreaterThan(0.25);
    });
  }

  test("texts far beyond the model's max length are truncated, not rejected", async () => {
    const long = Array.from({ length: 3000 }, (_, i) => `word${i % 97}`).join(" ");
    const [v] = await embedder.embed([long], "document");
    expect(v!.length).toBe(384);
    expect(Math.abs(Math.sqrt(dot(v!, v!)) - 1)).toBeLessThan(1e-4);
  });

  test("MiniLM has no query/document prefixes, so both kinds embed a text alike", async () => {
    const [q] = await embedder.embed(["where did I park the car"], "query");
    const [d] = await embedder.embed(["where did I park the car"], "document");
    expect(maxAbsDiff(q!, d!)).toBeLessThan(1e-5);
  });
});

describe("onnx embedder: batching", () => {
  const texts = [
    "How do I reset my password?",
    "The cat sat on the mat",
    "A much longer sentence, so that the others get padded when they share a batch with it.",
    "hi",
  ];

  test("a batch equals the single-text results (the q8 model's dynamic quantization allows ≈1% drift)", async () => {
    const batch = await embedder.embed(texts, "document");
    for (let i = 0; i < texts.length; i++) {
      const [single] = await embedder.embed([texts[i]!], "document");
      // One activation scale per tensor: batch-mates shift a vector slightly (measured cos 0.98–0.995).
      expect(dot(single!, batch[i]!)).toBeGreaterThan(0.97);
    }
  });

  test("with batchInvariant, batch results equal single results within 1e-5", async () => {
    const exact = await createOnnxEmbedder({ modelDir: TEST_MODEL_DIR, batchInvariant: true, queryCacheSize: 0 });
    try {
      const batch = await exact.embed(texts, "document");
      for (let i = 0; i < texts.length; i++) {
        const [single] = await exact.embed([texts[i]!], "document");
        expect(maxAbsDiff(single!, batch[i]!)).toBeLessThan(1e-5);
      }
      // …and concurrent callers coalesced into one batch get the same exact vectors.
      const concurrent = await Promise.all(texts.map((t) => exact.embed([t], "query")));
      concurrent.forEach(([v], i) => expect(maxAbsDiff(v!, batch[i]!)).toBeLessThan(1e-5));
      expect(exact.stats().maxBatchSeen).toBeGreaterThan(1);
    } finally {
      await exact.close();
    }
  });

  test("concurrent calls are coalesced into batches and each caller gets its own text's vector", async () => {
    const many = Array.from({ length: 48 }, (_, i) => `note ${i}: ${["buy milk", "call mom", "book flights to Oslo", "fix the login bug"][i % 4]} (item ${i * 7})`);
    const reference: Float32Array[] = [];
    for (const t of many) reference.push((await embedder.embed([t], "document"))[0]!);
    const before = embedder.stats();
    const results = await Promise.all(many.map((t) => embedder.embed([t], "document")));
    const after = embedder.stats();
    expect(after.batches - before.batches).toBeLessThan(many.length);
    expect(after.maxBatchSeen).toBeGreaterThan(1);
    results.forEach(([v], i) => {
      const own = dot(v!, reference[i]!);
      expect(own).toBeGreaterThan(0.97);
      // Closer to its own text than to any other caller's text.
      reference.forEach((r, j) => {
        if (j !== i) expect(dot(v!, r)).toBeLessThan(own);
      });
    });
    expect(after.queueDepth).toBe(0);
    expect(after.inFlight).toBe(0);
    expect(embedderStats(embedder)?.model).toBe("all-minilm-l6-v2");
  });

  test("with two workers, waiting texts are shared between them and each caller still gets its own text's vector", async () => {
    const two = await createOnnxEmbedder({ modelDir: TEST_MODEL_DIR, workers: 2, batchInvariant: true, queryCacheSize: 0 });
    try {
      const many = Array.from({ length: 40 }, (_, i) => `entry ${i}: ${["water the plants", "renew the passport", "ship the release", "pay the rent"][i % 4]} (#${i * 3})`);
      const reference: Float32Array[] = [];
      for (const t of many) reference.push((await two.embed([t], "document"))[0]!);
      const before = two.stats();
      const results = await Promise.all(many.map((t, i) => two.embed([t], i % 2 ? "query" : "document")));
      results.forEach(([v], i) => expect(maxAbsDiff(v!, reference[i]!)).toBeLessThan(1e-5));
      const stats = two.stats();
      expect(stats.workerBatches).toHaveLength(2);
      stats.workerBatches.forEach((batches, w) => expect(batches).toBeGreaterThan(before.workerBatches[w]!));
      expect(stats.textsEmbedded - before.textsEmbedded).toBe(many.length);
      expect(stats.inFlight).toBe(0);
    } finally {
      await two.close();
    }
    await expect(two.embed(["after close"], "query")).rejects.toThrow("closed");
  });

  test("a full queue rejects with QueueFullError; the texts already accepted still complete", async () => {
    const small = await createOnnxEmbedder({ modelDir: TEST_MODEL_DIR, maxQueue: 4, maxBatch: 2 });
    try {
      const a = small.embed(["one", "two"], "document"); // a full batch: goes to the worker at once
      const b = small.embed(["three", "four", "five"], "document"); // waits: queue depth 3
      const c = small.embed(["six", "seven"], "document"); // 3 + 2 > maxQueue
      await expect(c).rejects.toBeInstanceOf(QueueFullError);
      expect(await a).toHaveLength(2);
      expect(await b).toHaveLength(3);
      expect(small.stats().queueDepth).toBe(0);
      expect(await small.embed(["six", "seven"], "document")).toHaveLength(2);
      // A single call that could never fit is a caller error, not back-pressure.
      await expect(small.embed(["a", "b", "c", "d", "e"], "document")).rejects.toBeInstanceOf(RangeError);
    } finally {
      await small.close();
    }
    await expect(small.embed(["after close"], "query")).rejects.toThrow("closed");
  });
});

describe("onnx embedder: query cache", () => {
  test("a repeated query comes from the LRU with the same vector (a copy, safe to mutate)", async () => {
    const q = `what did I say about the garden? ${Date.now()}`;
    const before = embedder.stats();
    const [a] = await embedder.embed([q], "query");
    const mid = embedder.stats();
    expect(mid.queryCacheMisses).toBe(before.queryCacheMisses + 1);
    const [b] = await embedder.embed([q], "query");
    const after = embedder.stats();
    expect(after.queryCacheHits).toBe(mid.queryCacheHits + 1);
    expect(after.batches).toBe(mid.batches); // no model call
    expect(Array.from(b!)).toEqual(Array.from(a!));
    b!.fill(0);
    const [c] = await embedder.embed([q], "query");
    expect(Array.from(c!)).toEqual(Array.from(a!));
  });

  test("identical concurrent queries are embedded once", async () => {
    const q = `remind me about the dentist ${Date.now()}`;
    const before = embedder.stats();
    const [[x], [y]] = await Promise.all([embedder.embed([q], "query"), embedder.embed([q], "query")]);
    const after = embedder.stats();
    expect(after.textsEmbedded - before.textsEmbedded).toBe(1);
    expect(Array.from(x!)).toEqual(Array.from(y!));
  });

  test("documents bypass the cache", async () => {
    const d = `a document that is embedded twice ${Date.now()}`;
    const before = embedder.stats();
    await embedder.embed([d], "document");
    await embedder.embed([d], "document");
    const after = embedder.stats();
    expect(after.textsEmbedded - before.textsEmbedded).toBe(2);
    expect(after.queryCacheHits).toBe(before.queryCacheHits);
  });
});

describe("onnx embedder: model folder checks", () => {
  let broken: string;
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  test("a missing file is named, with the command that fetches it", async () => {
    broken = mkdtempSync(join(tmpdir(), "embedder-test-"));
    const src = resolve(TEST_MODEL_DIR);
    for (const entry of readdirSync(src)) {
      if (entry !== "tokenizer.json") symlinkSync(join(src, entry), join(broken, entry));
    }
    const err = await createOnnxEmbedder({ modelDir: broken }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect(err.message).toContain(`${join(broken, "tokenizer.json")} is missing`);
    expect(err.message).toContain("fetch-models");
  });

  test("a missing folder is named too", async () => {
    const err = await createOnnxEmbedder({ modelDir: "models/no-such-model" }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect(err.message).toContain("models/no-such-model");
    expect(err.message).toContain("fetch-models");
  });
});
