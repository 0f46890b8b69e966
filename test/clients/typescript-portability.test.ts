/**
 * The TypeScript client's exportMemories (resuming a broken stream from its last checkpoint,
 * without yielding a memory twice) and importMemories (split into requests under a body limit,
 * bad lines numbered across the whole input), against the app in process.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MemoryClient } from "../../clients/typescript/memory-client";

let t: TestApp;
let token: string;
let breakNextExport = false;

/** The app as a fetch; the first export answer after `breakNextExport` is cut after its first 2 lines. */
const fetchApp = (async (input: string | URL | Request, init?: RequestInit) => {
  const response = await t.app.handle(input instanceof Request ? new Request(input, init) : new Request(String(input), init));
  if (!breakNextExport || !String(input).includes("/export")) return response;
  breakNextExport = false;
  const text = await response.text();
  const cut = text.split("\n").slice(0, 2).join("\n") + "\n";
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(cut));
      controller.error(new Error("connection reset"));
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}) as typeof fetch;

beforeAll(async () => {
  t = await createTestApp({ exportPageSize: 3, importBatchSize: 2 });
  token = await t.token(`ts-client-${crypto.randomUUID()}`, "enterprise");
});
afterAll(() => t.close());

const client = () => new MemoryClient({ baseUrl: "http://localhost", token, fetch: fetchApp });

test("importMemories splits under the body limit; exportMemories resumes a broken stream; the copy equals the original", async () => {
  const source = await newCollection(t, token);
  const memories = Array.from({ length: 8 }, (_, i) => ({ id: `m${i}`, content: `memory number ${i} ${"x".repeat(200)}`, metadata: { i } }));
  const bad = { id: "bad", content: "" };
  const progress: number[] = [];
  const answer = await client().importMemories(source, [...memories.slice(0, 5), bad, ...memories.slice(5)], {
    maxBodyBytes: 800,
    onProgress: (p) => progress.push(p.imported),
  });
  expect(answer.imported).toBe(8);
  expect(answer.failed).toBe(1);
  expect(answer.errors).toHaveLength(1);
  expect(answer.errors[0]!.line).toBe(6);
  expect(answer.errors[0]!.detail).toStartWith("line 6: content: ");
  expect(progress.length).toBeGreaterThan(1);

  breakNextExport = true;
  const exported = [];
  for await (const memory of client().exportMemories(source)) exported.push(memory);
  expect(breakNextExport).toBe(false); // the break happened, and the export resumed
  expect(exported.map((m) => m.id)).toEqual(memories.map((m) => m.id));

  const target = await newCollection(t, token);
  expect((await client().importMemories(target, exported)).imported).toBe(8);
  const copy = [];
  for await (const memory of client().exportMemories(target, { filter: { metadata: { i: { $gte: 4 } } } })) copy.push(memory);
  expect(copy.map((m) => [m.id, m.content, m.metadata])).toEqual(memories.slice(4).map((m) => [m.id, m.content, m.metadata]));
});
