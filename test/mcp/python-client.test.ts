/**
 * A second, independent client: the official MCP Python SDK (`mcp` from PyPI, pinned in
 * scripts/python-venv.ts) drives /mcp over Streamable HTTP and `bun run mcp` over stdio, in its
 * default configuration (it first probes for a newer protocol, then falls back to the
 * initialize handshake). mcp_client.py prints what it saw; this file judges it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dirname, join } from "node:path";
import { ensurePythonVenv } from "../../scripts/python-venv";
import { ROOT } from "../clients/support";
import { newUser, startMcpTestServer, type McpTestServer } from "./support";

let server: McpTestServer;
let report: Record<"http" | "stdio", any>;

async function mcpPython(): Promise<string> {
  if (!Bun.which("python3")) {
    throw new Error("the Python MCP client test needs python3 (3.10+ with the venv module) on PATH to install `mcp` from PyPI into .cache/venv-mcp; none was found");
  }
  try {
    return await ensurePythonVenv("mcp");
  } catch (error) {
    throw new Error(`could not install the MCP Python SDK into .cache/venv-mcp (python3 -m venv, then pip from PyPI; needs the network once): ${(error as Error).message}`);
  }
}

beforeAll(async () => {
  const [python, started] = await Promise.all([mcpPython(), startMcpTestServer()]);
  server = started;
  const config = {
    url: server.api.url,
    mcp_url: server.mcpUrl,
    pro_token: await server.token(newUser("py-pro"), "pro"),
    free_token: await server.token(newUser("py-free"), "free"),
    bun: process.execPath,
    root: ROOT,
    // `bun run mcp` runs the package script, which finds bun on PATH
    path: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    transports: ["http", "stdio"],
  };
  // bounded: a client that hangs is killed (and the test fails) instead of holding the suite
  const proc = Bun.spawn([python, join(import.meta.dir, "mcp_client.py"), JSON.stringify(config)], { stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`mcp_client.py failed (${code}):\n${stderr}`);
  report = JSON.parse(stdout);
  console.error(`[mcp python] negotiated protocol ${report.http.protocol_version} over Streamable HTTP, ${report.stdio.protocol_version} over stdio`);
}, 300_000);

afterAll(async () => {
  await server?.api.stop();
});

for (const transport of ["http", "stdio"] as const) {
  describe(`the MCP Python SDK over ${transport === "http" ? "Streamable HTTP" : "stdio"}`, () => {
    test("connects in its default mode (negotiating a protocol version this server speaks) and lists the ten tools with output schemas", () => {
      const seen = report[transport];
      expect(seen.server).toBe("memory-api");
      expect(seen.protocol_version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(seen.instructions_mention_list_collections).toBe(true);
      expect(seen.tools).toEqual([
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
      ]);
      expect(seen.tools_with_output_schema).toBe(10);
      expect(seen.read_only_tools).toEqual(["get_entity", "get_memory", "list_collections", "list_entities", "list_memories", "search_memories"]);
    });

    test("uses every tool; structured results validate against the output schemas its SDK checks them with", () => {
      const seen = report[transport];
      expect(seen.create_collection).toEqual({ is_error: false, text_has_id: true });
      expect(seen.list_collections).toBe(1);
      expect(seen.add_memories.ids).toHaveLength(4);
      expect(seen.add_memories.ids[1]).toBe("invoice-42");
      expect(seen.search.semantic).toMatchObject({ search_type: "semantic", top: "Marta prefers window seats on long flights." });
      expect(seen.search.keyword).toMatchObject({ search_type: "keyword", top: "Invoice INV-2291 was paid on 3 March." });
      expect(seen.search.hybrid).toMatchObject({ search_type: "hybrid", top: "Marta prefers window seats on long flights." });
      expect(seen.search.graph.search_type).toBe("graph");
      expect(seen.search.graph.paths).toEqual({
        "Marta's manager is Oskar.": ["marta", "MANAGER", "oskar"],
        "Oskar lives in Tallinn.": ["marta", "MANAGER", "oskar", "LIVES_IN", "tallinn"],
      });
      expect(seen.search.filtered_kinds).toEqual(["billing", "people"]);
      expect(seen.get_memory).toBe("Invoice INV-2291 was paid on 3 March.");
      expect(seen.update_memory).toEqual({ kind: "billing", paid: true });
      expect(seen.list_memories).toEqual({ count: 3, has_next: true });
      expect(seen.get_entity).toEqual(expect.arrayContaining(["LIVES_IN", "MANAGER"]));
      expect(seen.list_entities).toEqual(["oskar"]);
      expect(seen.delete_memory).toMatchObject({ deleted: true, memory_id: "invoice-42" });
      expect(seen.get_deleted).toEqual({ is_error: true, text: "The Memory API refused the request (404 not_found): memory not found." });
      expect(seen.invalid_arguments.is_error).toBe(true);
      expect(seen.invalid_arguments.text).toContain("top_k: Expected integer to be less or equal to 100");
    });

    test("reads collections as resources; a missing one is the spec's resource-not-found error", () => {
      const seen = report[transport];
      expect(seen.resources).toHaveLength(1);
      expect(seen.resources[0]).toMatchObject({ name: expect.stringMatching(/^py-/), mime_type: "application/json" });
      expect(seen.read_resource).toEqual({ collection: true, memories: 3 });
      expect(seen.read_missing.code).toBe(-32002);
      expect(seen.read_missing.message).toContain("Resource not found: memory://collections/nope");
    });

    test("a free plan's rerank is a tool error with the API's reason, not a crash", () => {
      expect(report[transport].free_rerank).toEqual({
        is_error: true,
        text: "The Memory API refused the request (403 premium_required): reranking needs a premium plan (pro or enterprise); this token's tier is free.",
        structured: null,
      });
    });
  });
}

test("the Python SDK without a token fails to connect: the server answered 401 (the SDK words any non-JSON-RPC error answer generically)", () => {
  const noToken = report.http.no_token;
  expect(noToken).not.toBeNull();
  expect(noToken.http_statuses[0]).toBe(401);
  expect(noToken.http_statuses.every((status: number) => status === 401)).toBe(true);
  expect(noToken.message).toContain("MCPError");
});
