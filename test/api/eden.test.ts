/**
 * The typed client: Eden treaty over the exported `App` type, against the app listening on a
 * real port. The compile-time types are checked by `tsc` (this file is in the project); the
 * assertions check the same shapes at run time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import type { App } from "../../src/app";
import { createTestApp, type TestApp } from "../support/app";

let t: TestApp;
let server: ReturnType<TestApp["app"]["listen"]>;
let api: ReturnType<typeof treaty<App>>;
let stranger: ReturnType<typeof treaty<App>>;

async function listenOnFreePort(app: TestApp["app"]) {
  for (let port = 18300; port < 18400; port++) {
    try {
      return app.listen({ port, hostname: "127.0.0.1" });
    } catch {
      // in use: the next one
    }
  }
  throw new Error("no free port in 18300-18399");
}

beforeAll(async () => {
  t = await createTestApp();
  server = await listenOnFreePort(t.app);
  const base = `127.0.0.1:${server.server!.port}`;
  api = treaty<App>(base, { headers: { authorization: `Bearer ${await t.token("eden-user")}` } });
  stranger = treaty<App>(base, { headers: { authorization: `Bearer ${await t.token("eden-stranger")}` } });
});
afterAll(async () => {
  await server?.stop();
  await t.close();
});

describe("Eden treaty client", () => {
  test("create a collection, add memories, search, and read typed results", async () => {
    const created = await api.v1.collections.post({ name: `eden-${crypto.randomUUID()}`, description: "typed" });
    expect(created.status).toBe(201);
    if (created.error) throw new Error(`unexpected ${created.error.status}`);
    const collection = created.data; // { id, name, description, created_at }
    expect(collection.description).toBe("typed");

    const added = await api.v1.collections({ collection_id: collection.id }).memories.post({
      memories: [
        { id: "garage", content: "I parked on level 4 of the airport garage, row G.", metadata: { kind: "travel" } },
        { id: "dentist", content: "The dentist appointment is at 9:30 on Monday.", metadata: { kind: "health" } },
      ],
    });
    expect(added.status).toBe(201);
    expect(added.data?.ids).toEqual(["garage", "dentist"]);

    const found = await api.v1.search.post({
      query: "where did I leave the car?",
      collection_id: collection.id,
      top_k: 1,
      search_type: "semantic",
    });
    if (found.error) throw new Error(`unexpected ${found.error.status}`);
    const best = found.data.results[0]!; // typed: { id, content, metadata, score, created_at }
    expect(best.id).toBe("garage");
    expect(best.metadata).toEqual({ kind: "travel" });
    expect(typeof best.score).toBe("number");
    expect(found.data.search_type).toBe("semantic");
    expect(found.data.top_k).toBe(1);

    const one = await api.v1.collections({ collection_id: collection.id }).memories({ memory_id: "dentist" }).get();
    expect(one.data?.content).toBe("The dentist appointment is at 9:30 on Monday.");
  });

  test("errors are typed by status: a 404 problem for someone else's collection", async () => {
    const mine = await api.v1.collections.post({ name: `private-${crypto.randomUUID()}` });
    if (mine.error) throw new Error(`unexpected ${mine.error.status}`);
    const theirs = await stranger.v1.collections({ collection_id: mine.data.id }).get();
    expect(theirs.data).toBeNull();
    if (!theirs.error) throw new Error("expected an error");
    expect(theirs.error.status).toBe(404);
    if (theirs.error.status === 404) {
      const problem = theirs.error.value; // typed as the problem+json schema
      expect(problem.code).toBe("not_found");
      expect(problem.status).toBe(404);
      expect(problem.detail).toBe("collection not found");
    }
  });

  test("a validation error is a typed 422 naming the field", async () => {
    const reply = await api.v1.search.post({ query: "x", collection_id: "c", top_k: 1000 });
    expect(reply.status).toBe(422);
    if (reply.error?.status === 422) {
      expect(reply.error.value.field).toBe("top_k");
    } else {
      throw new Error(`expected 422, got ${reply.status}`);
    }
  });
});
