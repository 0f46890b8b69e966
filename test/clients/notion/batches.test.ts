/**
 * The importer's batches against a fake Memory API that is too slow for large requests: a batch
 * answered 503 (REQUEST_TIMEOUT_MS passed) is sent again in halves instead of being retried whole
 * forever, later batches follow the measured speed, and every memory arrives exactly once per id.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { MemoryClient } from "../../../clients/typescript/memory-client";
import { BatchSizer } from "../../../clients/notion/batch-size";
import { importPages } from "../../../clients/notion/importer";
import type { NotionPage } from "../../../clients/notion/page";

describe("BatchSizer", () => {
  test("starts small, grows at most twofold towards the target, never past the maximum", () => {
    const sizer = new BatchSizer(1000, 10_000);
    expect(sizer.size).toBe(100);
    sizer.observe(100, 500); // 5 ms a memory: 2,000 would fit, doubling allows 200
    expect(sizer.size).toBe(200);
    sizer.observe(200, 1000);
    sizer.observe(400, 2000);
    expect(sizer.size).toBe(800);
    sizer.observe(800, 4000);
    expect(sizer.size).toBe(1000);
    sizer.observe(1000, 40_000); // 40 ms a memory: 250 fit in 10 s
    expect(sizer.size).toBe(250);
    sizer.shrink(250);
    expect(sizer.size).toBe(125);
    sizer.observe(125, 10); // fast again, but 250 failed once: it stays at 125
    expect(sizer.size).toBe(125);
    for (let i = 0; i < 20; i++) sizer.shrink(sizer.size);
    expect(sizer.size).toBe(1);
  });

  test("a maximum below the start is honoured", () => {
    expect(new BatchSizer(10).size).toBe(10);
  });
});

describe("importPages with a Memory API too slow for large batches", () => {
  const stored = new Map<string, string>();
  const posts: { size: number; status: number }[] = [];
  const LIMIT = 30; // more memories than this in one request: "did not complete in time"
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname.endsWith("/memories")) return Response.json({ memories: [], next_cursor: null });
      if (request.method === "POST" && url.pathname.endsWith("/memories")) {
        const { memories } = (await request.json()) as { memories: { id: string; content: string }[] };
        if (memories.length > LIMIT) {
          posts.push({ size: memories.length, status: 503 });
          return Response.json(
            { type: "about:blank", title: "Service Unavailable", status: 503, code: "overloaded", detail: "the request did not complete within 30000 ms" },
            { status: 503, headers: { "content-type": "application/problem+json", "retry-after": "0" } },
          );
        }
        posts.push({ size: memories.length, status: 201 });
        for (const m of memories) stored.set(m.id, m.content);
        return Response.json({ ids: memories.map((m) => m.id) }, { status: 201 });
      }
      return new Response("not found", { status: 404 });
    },
  });
  afterAll(() => server.stop(true));

  test("the batch is halved until the API can finish it; nothing is lost or sent as a duplicate success", async () => {
    const pages: NotionPage[] = Array.from({ length: 150 }, (_, i) => ({
      id: i.toString(16).padStart(32, "0"),
      title: `Page ${i}`,
      path: `Page ${i}`,
      markdown: `Paragraph number ${i} of the generated test pages.`,
    }));
    const client = new MemoryClient({ baseUrl: `http://127.0.0.1:${server.port}`, token: "t", retries: 5 });
    const shrunk: number[] = [];
    const summary = await importPages(client, pages, { collectionId: "c", chunkChars: 1000, batchSize: 1000, onBatchShrunk: (size) => shrunk.push(size) });
    expect(summary).toMatchObject({ pages: 150, chunks: 150, added: 150, problems: [] });
    expect(stored.size).toBe(150);
    // 100 → 503, halved to 50 → 503, halved to 25 → accepted; then it stays where the API copes
    expect(posts).toEqual([
      { size: 100, status: 503 },
      { size: 50, status: 503 },
      ...Array.from({ length: 6 }, () => ({ size: 25, status: 201 })),
    ]);
    expect(shrunk).toEqual([50, 25]);
  });
});
