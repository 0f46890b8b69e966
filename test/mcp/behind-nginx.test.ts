/**
 * /mcp behind the repository's nginx.conf (the production front: keepalive upstream, proxy
 * buffering, its own error pages): the SDK's client connects through nginx, lists the tools,
 * calls one, and an unauthenticated request is still the API's 401 problem. Needs the nginx
 * binary the stack uses (/usr/sbin/nginx, Debian nginx-light); skipped, saying so, without it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ROOT, freePort } from "../clients/support";
import { callOk, newUser, startMcpTestServer, type McpTestServer } from "./support";

const NGINX = "/usr/sbin/nginx";
const available = existsSync(NGINX);
if (!available) console.error(`[mcp behind nginx] skipped: ${NGINX} is not installed (apt-get install nginx-light)`);

let server: McpTestServer;
let nginx: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let prefix = "";
let front = "";

beforeAll(async () => {
  if (!available) return;
  server = await startMcpTestServer();
  prefix = mkdtempSync(join(tmpdir(), "memory-api-nginx-"));
  const port = freePort();
  front = `http://127.0.0.1:${port}`;
  writeFileSync(join(prefix, "listen.conf"), `listen 127.0.0.1:${port};\n`);
  writeFileSync(join(prefix, "upstream-servers.conf"), `server ${new URL(server.api.url).host} max_fails=3 fail_timeout=5s;\n`);
  symlinkSync(join(ROOT, "nginx.conf"), join(prefix, "nginx.conf"));
  nginx = Bun.spawn([NGINX, "-p", `${prefix}/`, "-c", join(prefix, "nginx.conf"), "-e", "stderr", "-g", "daemon off;"], { stdout: "pipe", stderr: "pipe" });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && nginx.exitCode === null) {
    const up = await fetch(`${front}/health`).then((r) => r.ok, () => false);
    if (up) return;
    await Bun.sleep(100);
  }
  throw new Error(`nginx did not start:\n${await new Response(nginx.stderr).text()}`);
}, 120_000);

afterAll(async () => {
  if (nginx) {
    nginx.kill("SIGQUIT");
    await nginx.exited;
  }
  await server?.api.stop();
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

test.skipIf(!available)("the SDK's client works through nginx; an unauthenticated /mcp is the API's 401 problem", async () => {
  const token = await server.token(newUser("nginx"), "pro");
  const client = new Client({ name: "behind-nginx", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${front}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    expect((await client.listTools()).tools).toHaveLength(10);
    const created = await callOk(client, "create_collection", { name: "through nginx" });
    await callOk(client, "add_memories", { collection_id: created.structured.id, memories: [{ content: "nginx keeps upstream connections alive." }] });
    const found = await callOk(client, "search_memories", { collection_id: created.structured.id, query: "upstream keepalive", search_type: "hybrid" });
    expect(found.structured.results[0].content).toBe("nginx keeps upstream connections alive.");
  } finally {
    await client.close();
  }
  const anonymous = await fetch(`${front}/mcp`, {
    method: "POST",
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  expect(anonymous.status).toBe(401);
  expect(await anonymous.json()).toMatchObject({ code: "unauthorized" });
}, 30_000);
