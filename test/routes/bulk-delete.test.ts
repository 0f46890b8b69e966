/**
 * Bulk delete through the API (POST …/memories/delete): by ids, by filter or all, a bounded
 * number a call with has_more, a dry run; each deletion leaves search (cached answers included)
 * and is recorded in the memory's history as a single DELETE is; scopes, rate-limit cost and
 * quotas as for other writes; every malformed body a 422 naming its field. Runs on either
 * backend (TEST_BACKEND=production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import { DEFAULT_TIER_LIMITS } from "../../src/config";

let t: TestApp;
let owner: string;
let token: string;
let stranger: string;

beforeAll(async () => {
  t = await createTestApp();
  owner = `bulk-${crypto.randomUUID()}`;
  token = await t.token(owner);
  stranger = await t.token(`bulk-stranger-${crypto.randomUUID()}`);
});
afterAll(() => t.close());

const memoriesOf = (cid: string) => `/v1/collections/${cid}/memories`;
const bulkDelete = (cid: string, body: unknown, as = token, app = t) => app.call("POST", `${memoriesOf(cid)}/delete`, { token: as, body });

async function add(cid: string, memories: unknown[], as = token, app = t) {
  const reply = await app.call("POST", memoriesOf(cid), { token: as, body: { memories } });
  expect(reply.status).toBe(201);
  await app.backend.settle();
}

async function listIds(cid: string): Promise<string[]> {
  const reply = await t.call("GET", `${memoriesOf(cid)}?limit=1000`, { token });
  expect(reply.status).toBe(200);
  return reply.body.memories.map((m: { id: string }) => m.id);
}

describe("by ids", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, token);
    await add(cid, [
      { id: "otter", content: "Marguerite adopted a river otter named Pip.", metadata: { kind: "pet" } },
      { id: "violin", content: "Marguerite practises the violin every evening.", metadata: { kind: "hobby" } },
      { id: "beaver", content: "Marguerite watched a beaver build a dam by the river.", metadata: { kind: "pet" } },
    ]);
  });

  test("deletes those that exist and answers what it did; they leave search, cached answers included", async () => {
    const search = () => t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "river animals", top_k: 10 } });
    expect((await search()).body.results).toHaveLength(3);
    expect((await search()).body.cached).toBe(true);

    const reply = await bulkDelete(cid, { ids: ["beaver", "missing", "otter", "otter"] });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ dry_run: false, matched: 2, deleted: 2, ids: ["otter", "beaver"], has_more: false });
    await t.backend.settle();

    expect((await t.call("GET", `${memoriesOf(cid)}/otter`, { token })).status).toBe(404);
    expect(await listIds(cid)).toEqual(["violin"]);
    // the cached answer rolled forward past the deletes (or computed again): without them either way
    const after = await search();
    expect(after.body.results.map((r: { id: string }) => r.id)).toEqual(["violin"]);
    const keyword = await t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "beaver otter", search_type: "keyword" } });
    expect(keyword.body.results).toEqual([]);
  });

  test("each deletion is in the memory's history as a delete by the caller", async () => {
    const reply = await t.call("GET", `${memoriesOf(cid)}/beaver/history`, { token });
    expect(reply.status).toBe(200);
    const history = reply.body.history as { op: string; by: string; old: { content: string } | null; new: unknown }[];
    expect(history.map((h) => [h.op, h.by])).toEqual([
      ["create", owner],
      ["delete", owner],
    ]);
    expect(history[1]!.old?.content).toBe("Marguerite watched a beaver build a dam by the river.");
    expect(history[1]!.new).toBeNull();
  });

  test("ids already gone are simply not matched", async () => {
    const reply = await bulkDelete(cid, { ids: ["otter", "beaver"] });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ dry_run: false, matched: 0, deleted: 0, ids: [], has_more: false });
  });
});

describe("by filter, a bounded number a call", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, token);
    await add(cid, [
      ...Array.from({ length: 5 }, (_, i) => ({ id: `draft-${i}`, content: `draft note number ${i}`, metadata: { status: "draft", n: i } })),
      { id: "final", content: "the final version", metadata: { status: "final" } },
    ]);
  });

  test("a dry run answers what would go and deletes nothing", async () => {
    const reply = await bulkDelete(cid, { filter: { metadata: { status: "draft" } }, limit: 2, dry_run: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ dry_run: true, matched: 2, deleted: 0, ids: ["draft-0", "draft-1"], has_more: true });
    expect(await listIds(cid)).toHaveLength(6);
  });

  test("a client loops while has_more; the filter language is the search's", async () => {
    const body = { filter: { $and: [{ metadata: { status: { $eq: "draft" } } }, { metadata: { n: { $gte: 0 } } }] }, limit: 2 };
    const answers: { ids: string[]; has_more: boolean }[] = [];
    for (let calls = 0; calls < 10; calls++) {
      const reply = await bulkDelete(cid, body);
      expect(reply.status).toBe(200);
      answers.push({ ids: reply.body.ids, has_more: reply.body.has_more });
      if (!reply.body.has_more) break;
    }
    expect(answers).toEqual([
      { ids: ["draft-0", "draft-1"], has_more: true },
      { ids: ["draft-2", "draft-3"], has_more: true },
      { ids: ["draft-4"], has_more: false },
    ]);
    expect(await listIds(cid)).toEqual(["final"]);
  });
});

test("all: true deletes every memory of the collection, and only of it", async () => {
  const cid = await newCollection(t, token);
  const other = await newCollection(t, token);
  await add(cid, [{ content: "one" }, { content: "two" }, { content: "three" }]);
  await add(other, [{ id: "kept", content: "in another collection" }]);
  const dry = await bulkDelete(cid, { all: true, dry_run: true });
  expect(dry.body).toMatchObject({ dry_run: true, matched: 3, deleted: 0, has_more: false });
  const reply = await bulkDelete(cid, { all: true });
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ dry_run: false, matched: 3, deleted: 3, has_more: false });
  expect(reply.body.ids).toEqual(dry.body.ids);
  expect(await listIds(cid)).toEqual([]);
  expect(await listIds(other)).toEqual(["kept"]);
});

describe("refused", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, token);
    await add(cid, [{ id: "safe", content: "must survive every refused request", metadata: { tag: "x" } }]);
  });
  afterAll(async () => {
    expect(await listIds(cid)).toEqual(["safe"]);
  });

  const cases: [string, unknown, string][] = [
    ["no selector", {}, "body"],
    ["only options", { dry_run: true, limit: 5 }, "body"],
    ["two selectors", { ids: ["safe"], filter: { metadata: { tag: "x" } } }, "filter"],
    ["all three", { ids: ["safe"], filter: { metadata: { tag: "x" } }, all: true }, "filter"],
    ["an empty filter", { filter: {} }, "filter"],
    ["a filter without a condition", { filter: { $and: [{}] } }, "filter"],
    ["an unknown operator", { filter: { metadata: { tag: { $regex: "x" } } } }, "filter.metadata.tag.$regex"],
    ["all: false", { all: false }, "all"],
    ["an empty id list", { ids: [] }, "ids"],
    ["too many ids", { ids: Array.from({ length: 1001 }, (_, i) => `m${i}`) }, "ids"],
    ["an invalid id", { ids: ["no spaces allowed"] }, "ids[0]"],
    ["limit 0", { all: true, limit: 0 }, "limit"],
    ["limit over 1000", { all: true, limit: 1001 }, "limit"],
    ["an unknown field", { all: true, everything: true }, "everything"],
  ];
  for (const [what, body, field] of cases) {
    test(`${what}: a 422 naming ${field}`, async () => {
      const reply = await bulkDelete(cid, body);
      expect(reply.status).toBe(422);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(reply.body.detail).toContain(field);
    });
  }

  test("someone else's or no collection: 404; no token: 401", async () => {
    const foreign = await bulkDelete(cid, { all: true }, stranger);
    expect(foreign.status).toBe(404);
    expect(foreign.body.detail).toBe("collection not found");
    expect((await bulkDelete(crypto.randomUUID(), { all: true })).status).toBe(404);
    expect((await t.call("POST", `${memoriesOf(cid)}/delete`, { body: { all: true } })).status).toBe(401);
  });

  test("an API key needs the write scope, and the collection on its allow-list", async () => {
    const make = async (body: unknown) => {
      const reply = await t.call("POST", "/v1/keys", { token, body });
      expect(reply.status).toBe(201);
      return reply.body.key as string;
    };
    const reader = await make({ name: "reader", scopes: ["read"] });
    const denied = await bulkDelete(cid, { all: true }, reader);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain("needs the write scope");
    const elsewhere = await make({ name: "elsewhere", scopes: ["write"], collections: [await newCollection(t, token)] });
    expect((await bulkDelete(cid, { all: true }, elsewhere)).status).toBe(403);
    const writer = await make({ name: "writer", scopes: ["write"] });
    const dry = await bulkDelete(cid, { all: true, dry_run: true }, writer);
    expect(dry.status).toBe(200);
    expect(dry.body.ids).toEqual(["safe"]);
  });
});

test("costs one rate-limit unit per 10 memories it may delete; a dry run costs one", async () => {
  const perMinute = { free: 20, starter: 1000, pro: 1000, enterprise: 1000 };
  const limited = await createTestApp({ backend: t.backend, rateLimit: { limiter: new InProcessRateLimiter(), perMinute } });
  const user = await limited.token(`bulk-cost-${crypto.randomUUID()}`);
  const cid = await newCollection(limited, user); // 1 unit of 20
  // more than the whole budget can never pass: a 422 naming what to lower
  const tooBig = await bulkDelete(cid, { all: true }, user, limited); // 1000 memories: 100 units (the request's own 1 is spent)
  expect(tooBig.status).toBe(422);
  expect(tooBig.body.field).toBe("limit");
  expect((await bulkDelete(cid, { all: true, dry_run: true }, user, limited)).status).toBe(200); // 1 unit
  expect((await bulkDelete(cid, { all: true, limit: 150 }, user, limited)).status).toBe(200); // 15 units
  const spent = await bulkDelete(cid, { ids: Array.from({ length: 25 }, (_, i) => `m${i}`) }, user, limited); // 3 units: 21 > 20
  expect(spent.status).toBe(429);
  expect(spent.headers.get("retry-after")).not.toBeNull();
});

test("deleted memories no longer count against the memories quota", async () => {
  const tierLimits = { ...DEFAULT_TIER_LIMITS, free: { ...DEFAULT_TIER_LIMITS.free, memories: 3 } };
  const quota = await createTestApp({ backend: t.backend, tierLimits });
  const user = await quota.token(`bulk-quota-${crypto.randomUUID()}`);
  const cid = await newCollection(quota, user);
  await add(cid, [{ id: "q1", content: "one" }, { id: "q2", content: "two" }, { id: "q3", content: "three" }], user, quota);
  const full = await quota.call("POST", memoriesOf(cid), { token: user, body: { memories: [{ content: "four" }] } });
  expect(full.status).toBe(403);
  expect(full.body.code).toBe("quota_exceeded");
  expect((await bulkDelete(cid, { ids: ["q1", "q2"] }, user, quota)).body.deleted).toBe(2);
  await add(cid, [{ content: "four" }, { content: "five" }], user, quota);
});
