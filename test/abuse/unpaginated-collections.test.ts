/**
 * Attack (issue 18, item 5): GET /v1/collections answered a tenant's whole list in one page
 * (~80 MB at the limits). Now it is paginated like the memories: `limit` (default 100, at most
 * 1000) and `cursor`, answering `collections` as before plus `next_cursor`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { backendName } from "../support/backend";

let t: TestApp;
let token: string;
const ids: string[] = [];
beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`lister-${crypto.randomUUID()}`);
  for (let i = 0; i < 5; i++) ids.push(await newCollection(t, token, `c${i}`));
}, 120_000);
afterAll(() => t.close(), 60_000);

const list = (query = "") => t.call("GET", `/v1/collections${query}`, { token });

describe(`GET /v1/collections pages (${backendName()})`, () => {
  test("without parameters: the same shape as before, plus next_cursor null", async () => {
    const reply = await list();
    expect(reply.status).toBe(200);
    expect(reply.body.collections.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    expect(reply.body.next_cursor).toBeNull();
  });

  test("limit and cursor walk the list in creation order", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(reply.status).toBe(200);
      expect(reply.body.collections.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.collections.map((c: { id: string }) => c.id));
      cursor = reply.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual((await list()).body.collections.map((c: { id: string }) => c.id));
    expect(pages).toBe(3);
  });

  test("a page survives the deletion of the collection its cursor points after", async () => {
    const other = await t.token(`deleter-${crypto.randomUUID()}`);
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push(await newCollection(t, other, `d${i}`));
    const order: string[] = (await t.call("GET", "/v1/collections", { token: other })).body.collections.map((c: { id: string }) => c.id);
    const first = await t.call("GET", "/v1/collections?limit=2", { token: other });
    await t.call("DELETE", `/v1/collections/${order[1]}`, { token: other });
    const next = await t.call("GET", `/v1/collections?limit=2&cursor=${first.body.next_cursor}`, { token: other });
    expect(next.body.collections.map((c: { id: string }) => c.id)).toEqual([order[2], order[3]]);
  });

  test("limit past 1000, or a cursor of ours it never gave, is a 422 naming the parameter", async () => {
    const big = await list("?limit=1001");
    expect(big.status).toBe(422);
    expect(big.body.field ?? big.body.detail).toContain("limit");
    const bad = await list("?cursor=bm90LWEtY3Vyc29y");
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe("query.cursor");
  });
});
