/** The TypeScript client's bulk delete and collection PATCH against the app itself (embedded stores). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MemoryApiError, MemoryClient } from "../../clients/typescript/memory-client";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
let client: MemoryClient;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`ts-client-${crypto.randomUUID()}`);
  const handle = (input: string | URL | Request, init?: RequestInit) =>
    t.app.handle(input instanceof Request ? input : new Request(String(input), init));
  client = new MemoryClient({ baseUrl: "http://localhost", token, fetch: handle as typeof fetch });
});
afterAll(() => t.close());

test("deleteMemories answers one call; deleteAllMemories loops while has_more", async () => {
  const cid = await newCollection(t, token);
  await client.addMemories(cid, Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, content: `note ${i}`, metadata: { tag: i < 4 ? "old" : "new" } })));
  const dry = await client.deleteMemories(cid, { filter: { metadata: { tag: "old" } }, limit: 3, dry_run: true });
  expect(dry).toEqual({ dry_run: true, matched: 3, deleted: 0, ids: ["m0", "m1", "m2"], has_more: true });
  expect(await client.deleteAllMemories(cid, { filter: { metadata: { tag: "old" } }, limit: 3 })).toBe(4);
  expect((await client.deleteMemories(cid, { ids: ["m4", "m0"] })).ids).toEqual(["m4"]);
  const refused = await client.deleteMemories(cid, { filter: {} }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(MemoryApiError);
  expect((refused as MemoryApiError).status).toBe(422);
});

test("updateCollection renames and clears the description", async () => {
  const cid = await newCollection(t, token, "ts-before");
  const updated = await client.updateCollection(cid, { name: "ts-after", description: null });
  expect(updated).toMatchObject({ id: cid, name: "ts-after", description: null });
  expect((await client.getCollection(cid)).name).toBe("ts-after");
});
