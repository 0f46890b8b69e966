/**
 * Cypher (and SQL) injection attempts are data: entity names, relation labels and types supplied
 * by the client, injection-looking text, and search queries are stored and matched literally
 * through the public API, and the graph around them is intact afterwards. Runs on either backend
 * (TEST_BACKEND=production: Neo4j fed by the outbox).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

const EVIL = [
  'x"}) DETACH DELETE n //',
  "' OR 1=1 --",
  "a` {b}) RETURN 1 //",
  "$param",
  "}]->(m) WITH m MATCH (n) DETACH DELETE n //",
  "Robert'); DROP TABLE memories;--",
] as const;
const EVIL_TYPE = "x'}) DELETE (";
const EVIL_URL = "https://evil.example/`n`})MATCH(n)DETACH_DELETE(n)/$param";

let t: TestApp;
let token: string;
let cid: string;
let bystander: string;
const entityCount = async (collection: string) =>
  (await t.call("GET", `/v1/collections/${collection}/entities?limit=1000`, { token })).body.entities.length as number;

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`injection-${crypto.randomUUID()}`);
  bystander = await newCollection(t, token);
  cid = await newCollection(t, token);
  const add = (collection: string, memories: unknown[]) => t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories } });
  expect((await add(bystander, [{ id: "b1", content: "Alice's manager is Priya." }, { id: "b2", content: "Priya lives in Lisbon." }])).status).toBe(201);
  const added = await add(cid, [
    { id: "keep", content: "Ivy's friend is Jack." },
    {
      id: "evil",
      content: "nothing to extract here",
      entities: EVIL.map((name) => ({ name, type: EVIL_TYPE })),
      relations: [
        { source: EVIL[0], relation: "owns", target: EVIL[1] },
        { source: EVIL[2], relation: "}]-(x) DELETE x //", target: EVIL[3] },
      ],
    },
    { id: "evil-text", content: `Eve posted ${EVIL_URL} and MATCH (n) DETACH DELETE n in the chat.` },
  ]);
  expect(added.status).toBe(201);
  await t.backend.settle();
});
afterAll(() => t.close());

test("each injection-looking name comes back with its exact name, type and relations", async () => {
  for (const name of EVIL) {
    const reply = await t.call("GET", `/v1/collections/${cid}/entities/${encodeURIComponent(name)}`, { token });
    expect(reply.status).toBe(200);
    expect(reply.body.entity.display).toBe(name);
    expect(reply.body.entity.type).toBe("x'})_delete_(");
    expect(reply.body.memories.map((m: { id: string }) => m.id)).toEqual(["evil"]);
  }
  const first = (await t.call("GET", `/v1/collections/${cid}/entities/${encodeURIComponent(EVIL[0])}`, { token })).body;
  expect(first.neighbours).toContainEqual(expect.objectContaining({ display: EVIL[1], relation: "OWNS", direction: "out" }));
  // a label built from an injection attempt keeps only its words
  const third = (await t.call("GET", `/v1/collections/${cid}/entities/${encodeURIComponent(EVIL[2])}`, { token })).body;
  expect(third.neighbours).toContainEqual(expect.objectContaining({ display: EVIL[3], relation: "X_DELETE_X", direction: "out" }));
});

test("injection-looking text is extracted literally", async () => {
  const reply = await t.call("GET", `/v1/collections/${cid}/entities/${encodeURIComponent(EVIL_URL)}`, { token });
  expect(reply.status).toBe(200);
  expect(reply.body.entity).toMatchObject({ display: EVIL_URL, type: "url" });
  expect(reply.body.memories[0].content).toBe(`Eve posted ${EVIL_URL} and MATCH (n) DETACH DELETE n in the chat.`);
});

test("injection-looking list filters and search queries match literally", async () => {
  const listed = await t.call("GET", `/v1/collections/${cid}/entities?q=${encodeURIComponent("' or 1=1")}`, { token });
  expect(listed.status).toBe(200);
  expect(listed.body.entities.map((e: { display: string }) => e.display)).toEqual([EVIL[1]]);
  for (const name of EVIL) {
    const normal: string = (await t.call("GET", `/v1/collections/${cid}/entities/${encodeURIComponent(name)}`, { token })).body.entity.name;
    for (const searchType of ["graph", "hybrid", "keyword", "semantic"] as const) {
      const reply = await t.call("POST", "/v1/search", { token, body: { query: name, collection_id: cid, search_type: searchType, top_k: 5 } });
      expect(reply.status).toBe(200);
      if (searchType !== "graph") continue;
      // the walk starts at the entity of exactly that name (a query sharing the words "detach
      // delete" with the other memory may rank that one too, but never instead)
      const hit = reply.body.results.find((r: { id: string }) => r.id === "evil");
      expect(hit?.path).toEqual([normal]);
    }
  }
});

test("the graph is intact afterwards: nothing deleted, nothing leaked across collections", async () => {
  const keep = await t.call("GET", `/v1/collections/${cid}/entities/ivy`, { token });
  expect(keep.body.neighbours).toContainEqual(expect.objectContaining({ name: "jack", relation: "FRIEND" }));
  const bystanders = await t.call("POST", "/v1/search", {
    token,
    body: { query: "Where does Alice's manager live?", collection_id: bystander, search_type: "graph", top_k: 5 },
  });
  expect(bystanders.body.results.map((r: { id: string }) => r.id).sort()).toEqual(["b1", "b2"]);
  expect(await entityCount(bystander)).toBe(3); // alice, priya, lisbon
  const names = (await t.call("GET", `/v1/collections/${cid}/entities?limit=1000`, { token })).body.entities.map((e: { display: string }) => e.display);
  expect(names).toEqual(expect.arrayContaining([...EVIL, EVIL_URL, "Ivy", "Jack", "Eve"]));
});
