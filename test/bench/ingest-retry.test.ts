import { afterEach, describe, expect, test } from "bun:test";
import { ingest } from "../../bench/generate";

// The bench's ingester is a client of the API; here a scripted server plays the API's answers
// under overload, so the client's retry behaviour is what is checked.
type Seen = { key: string | null; body: string };

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => server?.stop(true));

function serve(answers: Response[]): { url: string; seen: Seen[] } {
  const seen: Seen[] = [];
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      seen.push({ key: req.headers.get("idempotency-key"), body: await req.text() });
      const next = answers.shift();
      return next ?? Response.json({ ids: [] }, { status: 201 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, seen };
}

const problem = (status: number, code: string, retryAfter?: string) =>
  Response.json({ status, code }, { status, headers: retryAfter ? { "retry-after": retryAfter } : {} });

describe("bench ingest retries", () => {
  test("a batch answered 503, then 409 in progress, then 429, is re-sent with the same body and Idempotency-Key until it is written", async () => {
    const { url, seen } = serve([problem(503, "overloaded", "0"), problem(409, "conflict", "0"), problem(429, "too_many_concurrent_writes", "0")]);
    const report = await ingest({ baseUrl: url, token: "t", collectionId: "c", count: 3, batchSize: 3, concurrency: 1, quiet: true });
    expect(report.retries).toBe(3);
    expect(seen).toHaveLength(4);
    expect(seen[0]!.key).toMatch(/^ingest-[0-9a-f]{64}$/);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1);
  });

  test("different batches get different keys", async () => {
    const { url, seen } = serve([]);
    await ingest({ baseUrl: url, token: "t", collectionId: "c", count: 4, batchSize: 2, concurrency: 1, quiet: true });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.key).not.toBe(seen[1]!.key);
  });

  test("a 409 without Retry-After (the key was used for another request) is not retried", async () => {
    const { url, seen } = serve([problem(409, "conflict")]);
    await expect(ingest({ baseUrl: url, token: "t", collectionId: "c", count: 1, batchSize: 1, concurrency: 1, quiet: true })).rejects.toThrow(/409/);
    expect(seen).toHaveLength(1);
  });
});
