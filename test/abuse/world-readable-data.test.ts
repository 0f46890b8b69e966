/**
 * Attack (issue 18, item 9): the embedded database (every tenant's memories) and its folder took
 * the umask's permissions (0644 / 0755 by default): any local user could copy them. Now the data
 * folder is 0700 and memory.db, its WAL files and revocations.db are 0600, whatever the umask.
 * Through the embedded runtime as the server wires it, with a write so the WAL files exist.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { buildApp } from "../../src/app";
import { openEmbeddedRuntime, type Runtime } from "../../src/runtime/embedded";
import { resolveJwtSecret } from "../../src/auth/secret";

const root = mkdtempSync(join(tmpdir(), "private-data-"));
const dataDir = join(root, "data");
let runtime: Runtime;
let previousUmask: number;

beforeAll(async () => {
  previousUmask = process.umask(0o022);
  mkdirSync(dataDir, { mode: 0o755 }); // an operator's existing, too open folder
  const config = loadConfig({ DATA_DIR: dataDir, RERANKER_KIND: "cross-encoder", RERANKER_MODEL_DIR: join(root, "no-reranker"), LOG_LEVEL: "silent" });
  const { secret } = resolveJwtSecret({ configured: undefined, dataDir });
  runtime = await openEmbeddedRuntime(config, silentLogger, secret);
  const app = buildApp(runtime.deps);
  const token = await runtime.deps.tokens.sign({ sub: "perm", tier: "free", ttlSeconds: 60 });
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const created = await app.handle(new Request("http://localhost/v1/collections", { method: "POST", headers, body: JSON.stringify({ name: "p" }) }));
  const body = (await created.json()) as { id: string };
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(body)}`);
  const { id } = body;
  const added = await app.handle(
    new Request(`http://localhost/v1/collections/${id}/memories`, { method: "POST", headers, body: JSON.stringify({ memories: [{ content: "private" }] }) }),
  );
  expect(added.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  process.umask(previousUmask);
  rmSync(root, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe("embedded data is readable by its owner only", () => {
  test("the data folder is 0700", () => {
    expect(mode(dataDir)).toBe(0o700);
  });

  test.each(["memory.db", "memory.db-wal", "memory.db-shm", "revocations.db", "jwt-secret"])("%s is 0600", (file) => {
    const path = join(dataDir, file);
    expect(existsSync(path)).toBe(true);
    expect(mode(path)).toBe(0o600);
  });
});
