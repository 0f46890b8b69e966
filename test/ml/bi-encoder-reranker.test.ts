/**
 * The premium bi-encoder (src/ml/bi-encoder-reranker.ts) over a real embedding model (the test
 * model stands in for the larger one a deployment configures: the behaviour is the model's
 * cosine, whatever the model): scores are the cosine of the query's and each candidate's vectors,
 * a candidate is embedded once however often it comes back, and it ranks as the model does.
 */
import { describe, expect, test } from "bun:test";
import { biEncoderReranker } from "../../src/ml/bi-encoder-reranker";
import { QueueFullError } from "../../src/domain/errors";
import type { Embedder } from "../../src/ports/embedder";
import { sharedEmbedder } from "../support/embedder";

/** The shared embedder, counting the texts embedded of each kind (its close is the suite's, not ours). */
function counting(inner: Embedder) {
  const embedded = { query: [] as string[], document: [] as string[] };
  const embedder: Embedder = {
    model: inner.model,
    dimensions: inner.dimensions,
    embed: async (texts, kind) => {
      embedded[kind].push(...texts);
      return inner.embed(texts, kind);
    },
    close: async () => {},
  };
  return { embedder, embedded };
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe("bi-encoder reranker", () => {
  const documents = [
    "The ferry to the island leaves from pier 4 every morning at seven.",
    "Our cat sleeps on the windowsill most afternoons.",
    "Quarterly revenue grew by twelve percent, driven by subscriptions.",
  ];

  test("scores are the cosine of the query's and each candidate's vectors, and rank as the model does", async () => {
    const inner = await sharedEmbedder();
    const reranker = biEncoderReranker(counting(inner).embedder);
    const query = "when does the boat to the island depart";
    const scores = await reranker.score(query, documents);
    const [q] = await inner.embed([query], "query");
    const vectors = await inner.embed(documents, "document");
    // int8 vectors move slightly with the batch a text shares (EMBED_BATCH_INVARIANT): not bit-equal
    scores.forEach((score, i) => expect(Math.abs(score - dot(q!, vectors[i]!))).toBeLessThan(0.03));
    expect(scores.indexOf(Math.max(...scores))).toBe(0);
    expect((await reranker.score("how did sales do last quarter", documents)).map((s, i) => [s, i]).sort((a, b) => b[0]! - a[0]!)[0]![1]).toBe(2);
  });

  test("a candidate is embedded once, however often it comes back; the query each time", async () => {
    const { embedder, embedded } = counting(await sharedEmbedder());
    const reranker = biEncoderReranker(embedder);
    await reranker.score("first question", [documents[0]!, documents[1]!, documents[0]!]);
    expect(embedded.document).toEqual([documents[0]!, documents[1]!]);
    const again = await reranker.score("second question", [documents[1]!, documents[2]!]);
    expect(again).toHaveLength(2);
    expect(embedded.document).toEqual([documents[0]!, documents[1]!, documents[2]!]);
    expect(embedded.query).toEqual(["first question", "second question"]);
    // what /metrics reads: a search's rescoring is a batch, each candidate a pair
    expect(reranker.stats()).toMatchObject({ batches: 2, pairsScored: 5, lastBatchPairs: 2, rejected: 0, timedOut: 0 });
  });

  test("beyond its bound the least recently used candidate is embedded again", async () => {
    const { embedder, embedded } = counting(await sharedEmbedder());
    const reranker = biEncoderReranker(embedder, { cachedDocuments: 2 });
    await reranker.score("q", [documents[0]!, documents[1]!]);
    await reranker.score("q", [documents[2]!]); // evicts documents[0]
    await reranker.score("q", [documents[0]!, documents[2]!]);
    expect(embedded.document).toEqual([documents[0]!, documents[1]!, documents[2]!, documents[0]!]);
  });

  test("past its wait bound a search gives up (reranker_busy); the vectors still land for the next one", async () => {
    const { embedder, embedded } = counting(await sharedEmbedder());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow: Embedder = { ...embedder, embed: async (texts, kind) => (kind === "document" ? held.then(() => embedder.embed(texts, kind)) : embedder.embed(texts, kind)) };
    const reranker = biEncoderReranker(slow, { maxWaitMs: 50 });
    await expect(reranker.score("when does the ferry leave", documents)).rejects.toBeInstanceOf(QueueFullError);
    expect(reranker.stats().timedOut).toBe(1);
    release();
    for (let i = 0; i < 100 && embedded.document.length < documents.length; i++) await Bun.sleep(20);
    const before = embedded.document.length;
    expect(await reranker.score("when does the ferry leave", documents)).toHaveLength(3);
    expect(embedded.document.length).toBe(before); // nothing embedded twice
  });
});
