/**
 * The MCP server end to end with the official TypeScript SDK's Client, over both transports:
 * Streamable HTTP at /mcp of a real server process, and `bun run mcp` on stdio pointed at it.
 * The same scenarios run on each, then what only one transport has (HTTP status codes, stdio
 * configuration).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  FREE_PER_MINUTE,
  TRANSPORTS,
  callError,
  callOk,
  connect,
  httpClient,
  newUser,
  startMcpTestServer,
  stdioClient,
  textOf,
  type ConnectedClient,
  type McpTestServer,
} from "./support";
import { ROOT } from "../clients/support";

const TOOL_NAMES = [
  "list_collections",
  "create_collection",
  "add_memories",
  "search_memories",
  "get_memory",
  "list_memories",
  "update_memory",
  "delete_memory",
  "list_entities",
  "get_entity",
];

/** stdio tests start a `bun run mcp` process each; on a loaded 2-core box that takes seconds. */
const TIMEOUT_MS = 30_000;

let server: McpTestServer;
const open: ConnectedClient[] = [];

beforeAll(async () => {
  server = await startMcpTestServer();
}, 120_000);

afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  await server?.api.stop();
});

async function client(transport: (typeof TRANSPORTS)[number], token: string): Promise<ConnectedClient> {
  const connected = await connect(transport, server, token);
  open.push(connected);
  return connected;
}

const MEMORIES = [
  { content: "I parked on level 4 of the airport garage, row G.", metadata: { kind: "travel", year: 2026 } },
  { content: "The dentist appointment is at 9:30 on Monday.", metadata: { kind: "health", year: 2026 } },
  { id: "k8s", content: "Our team uses Kubernetes to deploy the billing service.", metadata: { kind: "work" } },
  { content: "Alice's manager is Priya.", metadata: { kind: "people" } },
  { content: "Priya lives in Lisbon.", metadata: { kind: "people" } },
];

for (const transport of TRANSPORTS) {
  describe(`the TypeScript SDK's client over ${transport}`, () => {
    test("sees the server's name, instructions and ten tools, each with input and output schemas and behaviour hints", async () => {
      const { client: c } = await client(transport, await server.token(newUser("lister"), "pro"));
      expect(c.getServerVersion()).toMatchObject({ name: "memory-api" });
      expect(c.getInstructions()).toContain("list_collections");
      expect(c.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
      const { tools } = await c.listTools();
      expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
      for (const tool of tools) {
        expect(tool.description!.length).toBeGreaterThan(60);
        expect(tool.inputSchema.type).toBe("object");
        expect(tool.outputSchema?.type).toBe("object");
        expect(tool.annotations?.openWorldHint).toBe(false);
      }
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      for (const name of ["list_collections", "search_memories", "get_memory", "list_memories", "list_entities", "get_entity"]) {
        expect(byName[name]!.annotations?.readOnlyHint).toBe(true);
      }
      for (const name of ["update_memory", "delete_memory"]) expect(byName[name]!.annotations?.destructiveHint).toBe(true);
      // the search tool promises exactly the API's options and filter language
      const search = byName.search_memories!.inputSchema as any;
      expect(search.required).toEqual(["collection_id", "query"]);
      expect(search.properties.search_type.anyOf.map((s: { const: string }) => s.const)).toEqual(["semantic", "keyword", "hybrid", "graph"]);
      expect(search.properties.top_k).toMatchObject({ type: "integer", minimum: 1, maximum: 100 });
      expect(Object.keys(search.properties.filters.properties)).toEqual(
        ["metadata", "created_at", "updated_at", "created_after", "created_before", "$and", "$or", "$not"],
      );
      expect(search.additionalProperties).toBe(false);
      expect(byName.search_memories!.description).toContain('"$gte"');
    }, TIMEOUT_MS);

    test("every tool, in the order an agent would use them", async () => {
      const { client: c } = await client(transport, await server.token(newUser("walker"), "pro"));
      const name = `notes-${crypto.randomUUID()}`;

      const created = await callOk(c, "create_collection", { name, description: "things to remember" });
      expect(created.structured).toMatchObject({ name, description: "things to remember" });
      const cid: string = created.structured.id;
      expect(created.text).toContain(cid);
      expect(await callError(c, "create_collection", { name })).toContain("(409 conflict)");

      const listed = await callOk(c, "list_collections", {});
      expect(listed.structured.collections.map((x: { id: string }) => x.id)).toEqual([cid]);
      expect(listed.structured.next_cursor).toBeNull();
      expect(listed.text).toContain(`${name} (id ${cid}): things to remember`);
      expect(listed.text).toEndWith("(no more collections)");

      const added = await callOk(c, "add_memories", { collection_id: cid, memories: MEMORIES });
      expect(added.structured.ids).toHaveLength(MEMORIES.length);
      expect(added.structured.ids[2]).toBe("k8s");
      expect(added.text).toContain("Stored 5 memories");
      const [parkingId] = added.structured.ids;

      const semantic = await callOk(c, "search_memories", { collection_id: cid, query: "where did I leave the car?" });
      expect(semantic.structured).toMatchObject({ search_type: "semantic", top_k: 10, reranked: false });
      expect(semantic.structured.results[0].id).toBe(parkingId);
      expect(semantic.text).toMatch(/^5 results for "where did I leave the car\?" \(semantic search\):\n1\. \[score 0\.\d{3}\] id /);
      expect(semantic.text).toContain("airport garage");

      const keyword = await callOk(c, "search_memories", { collection_id: cid, query: "kubernetes", search_type: "keyword" });
      expect(keyword.structured.results.map((r: { id: string }) => r.id)).toEqual(["k8s"]);

      const hybrid = await callOk(c, "search_memories", {
        collection_id: cid,
        query: "when should I see the tooth doctor",
        search_type: "hybrid",
        top_k: 3,
        filters: { metadata: { kind: { $in: ["health", "travel"] }, year: { $gte: 2025 } } },
      });
      expect(hybrid.structured.results.length).toBeGreaterThan(0);
      expect(hybrid.structured.results.length).toBeLessThanOrEqual(2);
      expect(hybrid.structured.results[0].content).toContain("dentist");
      for (const r of hybrid.structured.results) expect(["health", "travel"]).toContain(r.metadata.kind);

      const graph = await callOk(c, "search_memories", { collection_id: cid, query: "Where does Alice's manager live?", search_type: "graph", top_k: 3 });
      const lisbon = graph.structured.results.find((r: { content: string }) => r.content.includes("Lisbon"));
      expect(lisbon.path).toEqual(["alice", "MANAGER", "priya", "LIVES_IN", "lisbon"]);
      expect(graph.text).toContain("path: alice MANAGER priya LIVES_IN lisbon");

      const one = await callOk(c, "search_memories", { collection_id: cid, query: "appointment", top_k: 1 });
      expect(one.structured.results).toHaveLength(1);

      const got = await callOk(c, "get_memory", { collection_id: cid, memory_id: "k8s" });
      expect(got.structured).toMatchObject({ id: "k8s", content: MEMORIES[2]!.content, metadata: { kind: "work" } });

      const page1 = await callOk(c, "list_memories", { collection_id: cid, limit: 2 });
      expect(page1.structured.memories).toHaveLength(2);
      expect(page1.structured.next_cursor).toEqual(expect.any(String));
      expect(page1.text).toContain(`cursor "${page1.structured.next_cursor}"`);
      const page2 = await callOk(c, "list_memories", { collection_id: cid, limit: 1000, cursor: page1.structured.next_cursor });
      expect(page2.structured.next_cursor).toBeNull();
      expect([...page1.structured.memories, ...page2.structured.memories].map((m: { content: string }) => m.content)).toEqual(
        MEMORIES.map((m) => m.content),
      );

      const updated = await callOk(c, "update_memory", { collection_id: cid, memory_id: "k8s", content: "Our team moved the billing service to Nomad.", metadata: { kind: "work", year: 2027 } });
      expect(updated.structured).toMatchObject({ id: "k8s", content: "Our team moved the billing service to Nomad.", metadata: { kind: "work", year: 2027 } });
      const nomad = await callOk(c, "search_memories", { collection_id: cid, query: "nomad", search_type: "keyword" });
      expect(nomad.structured.results.map((r: { id: string }) => r.id)).toEqual(["k8s"]);
      expect(await callError(c, "update_memory", { collection_id: cid, memory_id: "k8s" })).toContain("(422 validation_failed): body: give content, metadata");

      const entities = await callOk(c, "list_entities", { collection_id: cid, q: "pri" });
      expect(entities.structured.entities.map((e: { name: string }) => e.name)).toEqual(["priya"]);
      expect(entities.text).toContain('Priya (name; name "priya"; in 2 memories)');
      const priya = await callOk(c, "get_entity", { collection_id: cid, name: "Priya's" });
      expect(priya.structured.entity).toMatchObject({ name: "priya", mentions: 2 });
      expect(priya.structured.neighbours).toContainEqual(expect.objectContaining({ name: "lisbon", relation: "LIVES_IN", direction: "out" }));
      expect(priya.structured.memories).toHaveLength(2);
      expect(priya.text).toContain("Priya -LIVES_IN-> Lisbon");
      expect(await callError(c, "get_entity", { collection_id: cid, name: "Nobody" })).toContain("(404 not_found): entity not found");

      const deleted = await callOk(c, "delete_memory", { collection_id: cid, memory_id: "k8s" });
      expect(deleted.structured).toEqual({ deleted: true, collection_id: cid, memory_id: "k8s" });
      expect(await callError(c, "get_memory", { collection_id: cid, memory_id: "k8s" })).toBe(
        "The Memory API refused the request (404 not_found): memory not found.",
      );
      expect(await callError(c, "delete_memory", { collection_id: cid, memory_id: "k8s" })).toContain("404 not_found");
    }, TIMEOUT_MS);

    test("wrong arguments and API refusals are tool errors that say what to fix; an unknown tool is a protocol error", async () => {
      const { client: c } = await client(transport, await server.token(newUser("errors"), "pro"));
      const { structured } = await callOk(c, "create_collection", { name: "errors" });
      const cid = structured.id;
      expect(await callError(c, "search_memories", { query: "x" })).toContain("Invalid arguments for search_memories: collection_id: Expected required property");
      expect(await callError(c, "search_memories", { collection_id: cid, query: "x", top_k: "5", colour: "red" })).toMatch(
        /colour: Unexpected property.*top_k: Expected integer|top_k: Expected integer.*colour: Unexpected property/,
      );
      expect(await callError(c, "search_memories", { collection_id: cid, query: "x", filters: { metadata: { kind: { $regex: "a.*" } } } })).toContain(
        "filters.metadata.kind",
      );
      // checks only the API makes (metadata size) come back in the API's own words
      const big = { notes: "x".repeat(20_000) };
      const tooBig = await callError(c, "add_memories", { collection_id: cid, memories: [{ content: "big", metadata: big }] });
      expect(tooBig).toContain("(422 validation_failed): memories[0].metadata");
      expect(await callError(c, "list_memories", { collection_id: "no-such-collection" })).toContain("(404 not_found): collection not found");
      expect(await callError(c, "list_memories", { collection_id: cid, cursor: "not-a-cursor" })).toContain("422 validation_failed");
      const unknown = await c.callTool({ name: "forget_everything", arguments: {} }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(unknown).toBeInstanceOf(McpError);
      expect((unknown as McpError).message).toContain('unknown tool "forget_everything"');
    }, TIMEOUT_MS);

    test("rerank: a free plan gets a tool error saying it needs a premium plan; a pro plan gets reranked results", async () => {
      const free = await client(transport, await server.token(newUser("free"), "free"));
      const { structured } = await callOk(free.client, "create_collection", { name: "rerank" });
      await callOk(free.client, "add_memories", { collection_id: structured.id, memories: MEMORIES });
      const refused = await callError(free.client, "search_memories", { collection_id: structured.id, query: "car", rerank: true });
      expect(refused).toBe(
        "The Memory API refused the request (403 premium_required): reranking needs a premium plan (pro or enterprise); this token's tier is free.",
      );
      expect((await callOk(free.client, "search_memories", { collection_id: structured.id, query: "car" })).structured.reranked).toBe(false);

      const pro = await client(transport, await server.token(newUser("pro"), "pro"));
      const cid = (await callOk(pro.client, "create_collection", { name: "rerank" })).structured.id;
      await callOk(pro.client, "add_memories", { collection_id: cid, memories: MEMORIES });
      const reranked = await callOk(pro.client, "search_memories", { collection_id: cid, query: "where did I leave the car?", top_k: 2, rerank: true });
      // the server waits up to a minute for the cross-encoder (test/clients/support.ts), so a busy box still reranks
      expect(reranked.structured.reranked).toBe(true);
      expect(reranked.structured.results[0].content).toContain("parked");
      expect(reranked.text).toContain("(semantic search, reranked)");
    }, TIMEOUT_MS);

    test("collections are resources: listed, and read with their memories; a memory reads alone; an unknown one is not found", async () => {
      const { client: c } = await client(transport, await server.token(newUser("resources"), "pro"));
      const cid = (await callOk(c, "create_collection", { name: "diary", description: "day to day" })).structured.id;
      const other = (await callOk(c, "create_collection", { name: "empty" })).structured.id;
      await callOk(c, "add_memories", { collection_id: cid, memories: MEMORIES.slice(0, 2) });

      const { resources } = await c.listResources();
      expect(resources).toEqual([
        { uri: `memory://collections/${cid}`, name: "diary", title: 'Collection "diary"', description: "day to day", mimeType: "application/json" },
        { uri: `memory://collections/${other}`, name: "empty", title: 'Collection "empty"', description: 'memories of the collection "empty"', mimeType: "application/json" },
      ]);
      const { resourceTemplates } = await c.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["memory://collections/{collection_id}", "memory://collections/{collection_id}/memories/{memory_id}"]);

      const read = await c.readResource({ uri: `memory://collections/${cid}` });
      expect(read.contents).toHaveLength(1);
      const content = read.contents[0]! as { uri: string; mimeType: string; text: string };
      expect(content).toMatchObject({ uri: `memory://collections/${cid}`, mimeType: "application/json" });
      const body = JSON.parse(content.text);
      expect(body.collection).toMatchObject({ id: cid, name: "diary" });
      expect(body.memories.map((m: { content: string }) => m.content)).toEqual(MEMORIES.slice(0, 2).map((m) => m.content));
      expect(body.next_cursor).toBeNull();

      const memoryUri = `memory://collections/${cid}/memories/${body.memories[1].id}`;
      const memory = JSON.parse(((await c.readResource({ uri: memoryUri })).contents[0] as { text: string }).text);
      expect(memory).toMatchObject({ id: body.memories[1].id, content: MEMORIES[1]!.content });

      for (const uri of ["memory://collections/not-mine", `memory://collections/${cid}/memories/nope`, "memory://elsewhere"]) {
        const error = await c.readResource({ uri }).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(McpError);
        expect((error as McpError).code).toBe(-32002);
        expect((error as McpError).message).toContain(`Resource not found: ${uri}`);
      }
    }, TIMEOUT_MS);

    test("add_memories with dedupe skip does not store what the collection already holds, and says which memory it matched", async () => {
      const { client: c } = await client(transport, await server.token(newUser("deduper"), "pro"));
      const cid = (await callOk(c, "create_collection", { name: "dedupe" })).structured.id;
      const first = await callOk(c, "add_memories", { collection_id: cid, memories: [{ content: "The spare key is under the blue flower pot." }] });
      const [kept] = first.structured.ids;
      // on the production backend the vector index is fed by an outbox: wait until search sees it
      for (let i = 0; i < 100; i++) {
        const found = await callOk(c, "search_memories", { collection_id: cid, query: "where is the spare key?" });
        if (found.structured.results[0]?.id === kept) break;
        await Bun.sleep(100);
      }
      const again = await callOk(c, "add_memories", {
        collection_id: cid,
        memories: [{ content: "The spare key is under the blue flower pot." }, { content: "The wifi password is on the fridge." }],
        dedupe: "skip",
      });
      expect(again.structured.ids[0]).toBe(kept);
      expect(again.structured.dedupe).toMatchObject([{ index: 0, action: "skipped", matched_id: kept, similarity: 1 }, { index: 1, action: "created" }]);
      expect(again.text).toContain(`- #1 not stored: a near-duplicate of ${kept} (similarity 1)`);
      const listed = await callOk(c, "list_memories", { collection_id: cid });
      expect(listed.structured.memories).toHaveLength(2);
      expect(await callError(c, "add_memories", { collection_id: cid, memories: [{ content: "x" }], dedupe: "maybe" })).toContain("dedupe");
    }, TIMEOUT_MS);

    test("list_collections pages: the cursor of one page leads to the next, the last says there are no more", async () => {
      const { client: c } = await client(transport, await server.token(newUser("pager"), "pro"));
      const ids: string[] = [];
      for (const name of ["first", "second", "third"]) ids.push((await callOk(c, "create_collection", { name })).structured.id);
      const page1 = await callOk(c, "list_collections", { limit: 2 });
      expect(page1.structured.collections.map((x: { id: string }) => x.id)).toEqual(ids.slice(0, 2));
      expect(page1.text).toEndWith(`(more collections: call again with cursor "${page1.structured.next_cursor}")`);
      const page2 = await callOk(c, "list_collections", { limit: 2, cursor: page1.structured.next_cursor });
      expect(page2.structured.collections.map((x: { id: string }) => x.id)).toEqual(ids.slice(2));
      expect(page2.structured.next_cursor).toBeNull();
      expect(page2.text).toEndWith("(no more collections)");
    }, TIMEOUT_MS);

    test(`rate limits: tool calls spend the plan's budget (${FREE_PER_MINUTE} a minute here), then are tool errors with the wait; listing tools spends nothing`, async () => {
      const { client: c } = await client(transport, await server.token(newUser("limited"), "free"));
      for (let i = 0; i < 3; i++) expect((await c.listTools()).tools).toHaveLength(TOOL_NAMES.length);
      const outcomes: boolean[] = [];
      for (let i = 0; i < FREE_PER_MINUTE + 2; i++) {
        const result = await c.callTool({ name: "list_collections", arguments: {} });
        outcomes.push(result.isError === true);
      }
      expect(outcomes).toEqual([...Array(FREE_PER_MINUTE).fill(false), true, true]);
      const limited = await callError(c, "list_collections", {});
      expect(limited).toMatch(/^The Memory API refused the request \(429 rate_limited\): the free plan allows 12 requests a minute; retry in \d+ s\.$/);
      // the protocol itself keeps answering: the agent can still read what it may do
      expect((await c.listTools()).tools).toHaveLength(TOOL_NAMES.length);
    }, TIMEOUT_MS);
  });
}

describe("Streamable HTTP specifics", () => {
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(server.mcpUrl, {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };

  test("no token, a bad one or an expired one: 401 problem+json like every route, and the SDK's client fails to connect", async () => {
    for (const [headers, detail] of [
      [{}, "missing Authorization: Bearer <token> header"],
      [{ authorization: "Bearer not-a-jwt" }, "token is invalid"],
      [{ authorization: `Bearer ${await server.expiredToken(newUser("expired"))}` }, "token has expired"],
    ] as const) {
      const response = await post(headers, initialize);
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="memory-api"');
      expect(await response.json()).toMatchObject({ status: 401, code: "unauthorized", detail });
    }
    const failed = await httpClient(server, undefined).then(
      () => null,
      (error: unknown) => error as Error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(failed!.message).toContain("401");
  }, TIMEOUT_MS);

  test("stateless JSON answers: no session id, no event stream (GET and DELETE are 405 problems)", async () => {
    const token = await server.token(newUser("raw"), "free");
    const response = await post({ authorization: `Bearer ${token}` }, initialize);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(await response.json()).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "memory-api" } } });
    const notified = await post({ authorization: `Bearer ${token}` }, { jsonrpc: "2.0", method: "notifications/initialized" });
    expect(notified.status).toBe(202);
    for (const method of ["GET", "DELETE"]) {
      const refused = await fetch(server.mcpUrl, { method, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } });
      expect(refused.status).toBe(405);
      expect(refused.headers.get("allow")).toBe("POST");
      expect(await refused.json()).toMatchObject({ code: "method_not_allowed" });
    }
    const empty = await fetch(server.mcpUrl, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ code: "invalid_json" });
  }, TIMEOUT_MS);
});

describe("stdio specifics", () => {
  test("an expired MEMORY_API_TOKEN: the server starts, and every tool says the token was refused", async () => {
    const connected = await stdioClient(server, await server.expiredToken(newUser("stale")));
    open.push(connected);
    expect(await callError(connected.client, "list_collections", {})).toBe(
      "The Memory API refused the request (401 unauthorized): token has expired.",
    );
    expect(connected.stderr()).toContain(`serving on stdio; Memory API at ${server.api.url}`);
  }, TIMEOUT_MS);

  test("an unreachable API is a tool error naming the URL", async () => {
    const connected = await stdioClient(server, await server.token(newUser("nowhere")), { MEMORY_API_URL: "http://127.0.0.1:9" });
    open.push(connected);
    expect(await callError(connected.client, "list_collections", {})).toMatch(/^The Memory API could not be reached: the Memory API at http:\/\/127\.0\.0\.1:9 is unreachable/);
  }, TIMEOUT_MS);

  test("without MEMORY_API_TOKEN it exits 2 and says which variable to set", async () => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), MEMORY_API_URL: server.api.url };
    delete env.MEMORY_API_TOKEN;
    const proc = Bun.spawn([process.execPath, "run", "mcp"], { cwd: ROOT, env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("MEMORY_API_TOKEN is required");
  }, TIMEOUT_MS);
});

// a tool result's text is the rendering the model reads; keep it about the text, not JSON
test("text renderings are plain text, never JSON dumps", async () => {
  const { client: c } = await client("streamable-http", await server.token(newUser("render"), "pro"));
  const cid = (await callOk(c, "create_collection", { name: "render" })).structured.id;
  await callOk(c, "add_memories", { collection_id: cid, memories: MEMORIES.slice(0, 1) });
  const result = await c.callTool({ name: "list_memories", arguments: { collection_id: cid } });
  const text = textOf(result as never);
  expect(text).toMatch(/^1 memory:\n- id \S+ \(created [^)]+\)\n {3}I parked on level 4 of the airport garage, row G\.\n {3}metadata: \{"kind":"travel","year":2026\}\n\(no more memories\)$/);
}, TIMEOUT_MS);

describe("API keys over MCP", () => {
  /** A key made through the API by a JWT holder; its secret is only in this answer. */
  async function makeKey(jwt: string, body: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${server.api.url}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  }

  for (const transport of TRANSPORTS) {
    test(`a read-only key searches over ${transport}, and a write tool is refused with the missing scope named`, async () => {
      const user = newUser("keyholder");
      const jwt = await server.token(user, "pro");
      const { client: owner } = await client(transport, jwt);
      const created = await callOk(owner, "create_collection", { name: `keys ${transport}` });
      const collectionId = created.structured.id as string;
      await callOk(owner, "add_memories", { collection_id: collectionId, memories: [{ content: "The spare key is under the blue flowerpot." }] });

      const key = await makeKey(jwt, { name: "reader", scopes: ["read"] });
      const { client: reader } = await client(transport, key);
      const found = await callOk(reader, "search_memories", { collection_id: collectionId, query: "where is the spare key?", search_type: "keyword" });
      expect(found.structured.results.length).toBeGreaterThan(0);
      const refused = await callError(reader, "add_memories", { collection_id: collectionId, memories: [{ content: "x" }] });
      expect(refused).toContain("403");
      expect(refused).toContain("write scope");
    }, TIMEOUT_MS);
  }
});
