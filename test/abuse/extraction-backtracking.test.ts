/**
 * Attack: memory texts that make graph extraction's patterns backtrack (quadratic in the text),
 * so one POST holds the worker's event loop for seconds while /health and every other request
 * wait (issue 18, item 1: 10 × 65,536 "a" took 6.2 s, /health waited 5.9 s).
 *
 * Without wall-clock assertions:
 * (1) linear time: each adversarial family at 1 MB (16 × the largest memory, extraction's cap
 *     lifted) is extracted in a worker thread within a deadline two orders of magnitude above
 *     what linear patterns need, and two below what the quadratic ones needed (minutes);
 * (2) through the API, every family at the largest allowed size is stored and an ordinary
 *     address among them is still found;
 * (3) a /health asked while a batch is being extracted is answered before the batch reaches
 *     the store: an ordering that cannot happen when extraction holds the loop from start to end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { LIMITS } from "../../src/domain/limits";
/** Extraction reads this much of a memory (src/graph/extract.ts MAX_EXTRACTION_CHARS). */
const MAX_EXTRACTION_CHARS = 16_384;
import { around } from "./spy";

const SIZE = LIMITS.contentChars;
const fill = (unit: string, size: number = SIZE) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** One text per pattern (and per shape) that backtracked, at the largest content size. */
const ADVERSARIAL: Record<string, string> = {
  "no @ after an e-mail's local part": fill("a"),
  "digits and commas without a unit": fill("1,"),
  "digits, double commas": fill("1,,"),
  "an e-mail domain without a dot": `a@${fill("b", SIZE - 2)}`,
  "a URL full of full stops": `see http://x${fill(".", SIZE - 20)}a now`,
  "number dots": fill("1."),
  "letters and dots": fill("a."),
  "capitalised hyphens": fill("A-"),
};

const WORKER_DEADLINE_MS = 30_000;

function extractOffThread(name: string, text: string): Promise<number> {
  const worker = new Worker(new URL("./extraction-worker.ts", import.meta.url).href);
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`extraction of "${name}" (${text.length} characters) still running after ${WORKER_DEADLINE_MS} ms`));
    }, WORKER_DEADLINE_MS);
    worker.onmessage = (event: MessageEvent<{ entities: number }>) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(event.data.entities);
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      void worker.terminate();
      reject(new Error(event.message));
    };
    worker.postMessage({ name, text });
  });
}

describe("extraction's patterns run in linear time", () => {
  for (const [name, text] of Object.entries(ADVERSARIAL)) {
    test(
      `${name}, 1 MB`,
      async () => {
        const big = text.repeat(16);
        expect(await extractOffThread(name, big)).toBeGreaterThanOrEqual(0);
      },
      WORKER_DEADLINE_MS + 5_000,
    );
  }
});

describe("graph extraction on adversarial text", () => {
  let t: TestApp;
  let token: string;
  const events: string[] = [];
  let probeHealth = false;

  beforeAll(async () => {
    t = await createTestApp({
      maxBodyBytes: 10 * 1024 * 1024,
      wrap: {
        // the moment a batch's vectors are back, the route starts extracting: ask /health then
        embedder: (inner) =>
          around(inner, "embed", async (embed, texts, kind) => {
            const vectors = await embed(texts, kind);
            if (kind === "document" && probeHealth) {
              probeHealth = false;
              setImmediate(async () => {
                const reply = await t.app.handle(new Request("http://localhost/health"));
                events.push(`health ${reply.status}`);
              });
            }
            return vectors;
          }),
        memories: (inner) =>
          around(inner, "upsert", (upsert, collectionId, items) => {
            events.push("upsert");
            return upsert(collectionId, items);
          }),
      },
    });
    token = await t.token("extraction-attacker", "enterprise");
  });
  afterAll(() => t.close());

  test(
    "every adversarial family, 64 K characters each, is stored and extracted",
    async () => {
      const collection = await newCollection(t, token);
      const memories = Object.values(ADVERSARIAL).map((content) => ({ content }));
      memories.push({ content: `Mail priya@example.com about ${fill("the plan ", SIZE - 100)} 3,000 kg` });
      const reply = await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories } });
      expect(reply.status).toBe(201);
      expect(reply.body.ids).toHaveLength(memories.length);
      await t.backend.settle();
      const entities = await t.call("GET", `/v1/collections/${collection}/entities?q=priya`, { token });
      expect(entities.status).toBe(200);
      expect(entities.body.entities.map((e: { name: string }) => e.name)).toContain("priya@example.com");
    },
    60_000,
  );

  test(
    "a /health asked while a batch is extracted is answered before the batch is stored",
    async () => {
      const collection = await newCollection(t, token);
      events.length = 0;
      probeHealth = true;
      const memories = Array.from({ length: 10 }, () => ({ content: ADVERSARIAL["no @ after an e-mail's local part"]! }));
      const reply = await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories } });
      expect(reply.status).toBe(201);
      expect(events).toEqual(["health 200", "upsert"]);
    },
    60_000,
  );

  test("extraction reads the first 16 K characters of a memory", async () => {
    const collection = await newCollection(t, token);
    const head = "Alice lives in Lisbon. ";
    const content = head + fill("and so on ", MAX_EXTRACTION_CHARS) + " Zebediah lives in Oslo.";
    const reply = await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories: [{ content }] } });
    expect(reply.status).toBe(201);
    await t.backend.settle();
    const names = async (q: string) =>
      (await t.call("GET", `/v1/collections/${collection}/entities?q=${q}`, { token })).body.entities.map((e: { name: string }) => e.name);
    expect(await names("lisbon")).toEqual(["lisbon"]);
    expect(await names("zebediah")).toEqual([]);
  });
});
