/**
 * PATCH /v1/collections/:id: renaming a collection and changing its description, through the
 * API; names stay unique per owner (409), someone else's collection is a 404, an empty or
 * malformed patch a 422 naming the field. Runs on either backend (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
let token: string;
let stranger: string;

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`patch-${crypto.randomUUID()}`);
  stranger = await t.token(`patch-stranger-${crypto.randomUUID()}`);
});
afterAll(() => t.close());

const patch = (cid: string, body: unknown, as = token) => t.call("PATCH", `/v1/collections/${cid}`, { token: as, body });

test("renames, redescribes and clears the description; the rest stays; GET reads the change", async () => {
  const created = await t.call("POST", "/v1/collections", { token, body: { name: "drafts", description: "work in progress" } });
  const cid = created.body.id as string;
  const renamed = await patch(cid, { name: "  finals  " });
  expect(renamed.status).toBe(200);
  expect(renamed.body).toEqual({ ...created.body, name: "finals" });
  const described = await patch(cid, { description: "done" });
  expect(described.body).toEqual({ ...created.body, name: "finals", description: "done" });
  const cleared = await patch(cid, { name: "archive", description: null });
  expect(cleared.body).toEqual({ ...created.body, name: "archive", description: null });
  expect((await t.call("GET", `/v1/collections/${cid}`, { token })).body).toEqual(cleared.body);
  // its memories stay where they were
  expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ id: "m", content: "kept" }] } })).status).toBe(201);
  await patch(cid, { name: "renamed again" });
  expect((await t.call("GET", `/v1/collections/${cid}/memories/m`, { token })).body.content).toBe("kept");
});

test("a name used by another of your collections is a 409; your own name, or another user's, is fine", async () => {
  const first = await newCollection(t, token, "taken");
  const second = await newCollection(t, token, "free");
  const clash = await patch(second, { name: "taken" });
  expect(clash.status).toBe(409);
  expect(clash.headers.get("content-type")).toBe("application/problem+json");
  expect(clash.body.detail).toContain('"taken"');
  expect((await t.call("GET", `/v1/collections/${second}`, { token })).body.name).toBe("free");
  expect((await patch(first, { name: "taken" })).status).toBe(200);
  await newCollection(t, stranger, "theirs");
  expect((await patch(second, { name: "theirs" })).status).toBe(200);
});

test("someone else's or an unknown collection is a 404; no token a 401; a read-only API key a 403", async () => {
  const cid = await newCollection(t, token, "private");
  const foreign = await patch(cid, { name: "mine now" }, stranger);
  expect(foreign.status).toBe(404);
  expect(foreign.body.detail).toBe("collection not found");
  expect((await patch(crypto.randomUUID(), { name: "x" })).status).toBe(404);
  expect((await patch("not-a-uuid", { name: "x" })).status).toBe(404);
  expect((await t.call("PATCH", `/v1/collections/${cid}`, { body: { name: "x" } })).status).toBe(401);
  const key = await t.call("POST", "/v1/keys", { token, body: { name: "reader", scopes: ["read"] } });
  const denied = await patch(cid, { name: "x" }, key.body.key);
  expect(denied.status).toBe(403);
  expect((await t.call("GET", `/v1/collections/${cid}`, { token })).body.name).toBe("private");
});

test("an empty or malformed patch is a 422 naming the field", async () => {
  const cid = await newCollection(t, token, "stable");
  const cases: [unknown, string][] = [
    [{}, "body"],
    [{ name: "" }, "name"],
    [{ name: "   " }, "name"],
    [{ name: "x".repeat(129) }, "name"],
    [{ name: null }, "name"],
    [{ description: "d".repeat(1025) }, "description"],
    [{ description: 5 }, "description"],
    [{ embedding_model: "other" }, "embedding_model"],
  ];
  for (const [body, field] of cases) {
    const reply = await patch(cid, body);
    expect({ body, status: reply.status }).toEqual({ body, status: 422 });
    expect(reply.body.field).toBe(field);
  }
  expect((await t.call("GET", `/v1/collections/${cid}`, { token })).body).toMatchObject({ name: "stable", description: null });
});
