/**
 * Structured logs and request ids through the public API: an incoming X-Request-Id (when it
 * looks like one) is reused, echoed and on every log line of that request, including lines
 * logged deep in the pipeline; tokens and memory contents never reach a log line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { createLogger } from "../../src/log";
import type { SearchCache } from "../../src/ports/search-cache";
import { afterResponses } from "./exposition";

const SECRET_CONTENT = "the vault code is 7314-SECRET-CONTENT";
const SECRET_QUERY = "what is the SECRET-QUERY vault code";

/** A search cache that is down: the pipeline logs a warning and serves uncached. */
const downCache: SearchCache = {
  get: async () => Promise.reject(new Error("cache down")),
  set: async () => Promise.reject(new Error("cache down")),
  generation: async () => Promise.reject(new Error("cache down")),
  bumpGeneration: async () => Promise.reject(new Error("cache down")),
};

interface Line {
  msg: string;
  level: string;
  request_id?: string;
  [key: string]: unknown;
}

describe("request ids and logs", () => {
  const raw: string[] = [];
  const lines = () => raw.map((l) => JSON.parse(l) as Line);
  let t: TestApp;
  let token: string;
  let cid: string;

  beforeAll(async () => {
    t = await createTestApp({ log: createLogger("debug", (line) => raw.push(line)), accessLog: true, cache: downCache });
    token = await t.token("logs-user", "pro");
    cid = await newCollection(t, token);
  });
  afterAll(() => t.close());

  test("a given X-Request-Id is echoed and tags the access line and the pipeline's own warning", async () => {
    const first = await t.call("POST", "/v1/search", {
      token,
      body: { query: SECRET_QUERY, collection_id: cid, search_type: "keyword" },
      headers: { "x-request-id": "search:req-0" },
    });
    expect(first.status).toBe(200);
    await afterResponses();
    const ofFirst = lines().filter((l) => l.request_id === "search:req-0");
    expect(ofFirst.map((l) => l.msg)).toContain("search cache unavailable, bypassing it"); // logged inside the pipeline

    const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
      token,
      body: { memories: [{ content: SECRET_CONTENT }] },
      headers: { "x-request-id": "write-req.1" },
    });
    expect(added.status).toBe(201);
    expect(added.headers.get("x-request-id")).toBe("write-req.1");
    await t.backend.settle();

    const searched = await t.call("POST", "/v1/search", {
      token,
      body: { query: SECRET_QUERY, collection_id: cid, search_type: "keyword" },
      headers: { "x-request-id": "search:req-2" },
    });
    expect(searched.status).toBe(200);
    expect(searched.headers.get("x-request-id")).toBe("search:req-2");
    expect(searched.text).toContain(SECRET_CONTENT); // the answer has it; the logs must not
    await afterResponses();

    const ofSearch = lines().filter((l) => l.request_id === "search:req-2");
    const access = ofSearch.find((l) => l.msg === "request")!;
    expect(access).toMatchObject({ level: "info", method: "POST", route: "/v1/search", status: 200 });
    expect(typeof access.duration_ms).toBe("number");

    const ofWrite = lines().filter((l) => l.request_id === "write-req.1");
    expect(ofWrite.map((l) => l.msg)).toContain("could not bump collection generation; its searches bypass the cache until it lands");
    expect(ofWrite.find((l) => l.msg === "request")).toMatchObject({ status: 201, route: expect.stringMatching(/^\/v1\/collections\/:collection_id\/memories\/?$/) });
  });

  test("an id that is not one (too long, odd characters) is replaced by a generated one, used everywhere", async () => {
    for (const given of ["x".repeat(129), "has spaces", "<script>", "a\u00e9b"]) {
      const reply = await t.call("GET", `/v1/collections/${cid}`, { token, headers: { "x-request-id": given } });
      expect(reply.status).toBe(200);
      const id = reply.headers.get("x-request-id")!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await afterResponses();
      expect(lines().filter((l) => l.request_id === id).map((l) => l.msg)).toEqual(["request"]);
      expect(raw.some((l) => l.includes(given))).toBe(false);
    }
  });

  test("every request gets its own id; problem answers carry it too", async () => {
    const a = await t.call("GET", "/v1/collections/not-a-collection", { token });
    const b = await t.call("GET", "/v1/collections/not-a-collection", { token });
    expect(a.status).toBe(404);
    expect(a.body.request_id).toBe(a.headers.get("x-request-id"));
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  test("no log line holds a token, a memory's content or a query", async () => {
    const unauthorized = await t.call("GET", "/v1/collections", { token: token + "tampered" });
    expect(unauthorized.status).toBe(401);
    await afterResponses();
    expect(raw.length).toBeGreaterThan(5);
    const signature = token.split(".")[2]!;
    for (const line of raw) {
      expect(line).not.toContain(signature);
      expect(line).not.toContain(token.split(".")[1]!);
      expect(line).not.toContain("SECRET-CONTENT");
      expect(line).not.toContain("SECRET-QUERY");
    }
  });
});

describe("access log switch", () => {
  test("off (the default): no line per request", async () => {
    const raw: string[] = [];
    const t = await createTestApp({ log: createLogger("debug", (line) => raw.push(line)) });
    try {
      for (let i = 0; i < 3; i++) expect((await t.call("GET", "/health")).status).toBe(200);
      await afterResponses();
      expect(raw.filter((l) => JSON.parse(l).msg === "request")).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe("nginx and the workers agree on what a request id is", () => {
  test("nginx.conf keeps a caller's id under the same rule the worker applies, else its own $request_id", async () => {
    const conf = await Bun.file(new URL("../../nginx.conf", import.meta.url)).text();
    const map = /map \$http_x_request_id \$memory_request_id \{\s*"~\^\[A-Za-z0-9\._:-\]\{1,128\}\$"\s+\$http_x_request_id;\s*default\s+\$request_id;\s*\}/;
    expect(conf).toMatch(map);
    expect(conf).toContain("proxy_set_header X-Request-Id $memory_request_id;");
    expect(conf).toContain("add_header X-Request-Id $memory_request_id always;");
    // the worker's own rule: the same 1..128 characters of [A-Za-z0-9._:-]
    const t = await createTestApp();
    try {
      const ok = "A-z0.9_:" + "x".repeat(120);
      expect((await t.call("GET", "/health", { headers: { "x-request-id": ok } })).headers.get("x-request-id")).toBe(ok);
      expect((await t.call("GET", "/health", { headers: { "x-request-id": ok + "x" } })).headers.get("x-request-id")).not.toBe(ok + "x");
    } finally {
      await t.close();
    }
  });
});
