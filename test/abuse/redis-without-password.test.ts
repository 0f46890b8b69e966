/**
 * Attack (issue 18, item 9): the stack's Redis (rate limits, revocations, cache) took commands
 * from anyone who could reach its port. Now it requires a password and `stack env` hands the API
 * a REDIS_URL that carries it. Run against a Redis of the stack's own making in a temporary
 * STACK_DIR on a free port (the shared one is never touched), stopped afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Redis from "ioredis";
import { createRedisClient } from "../../src/stores/redis/client";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";

const ROOT = resolve(import.meta.dir, "../..");
const available = existsSync("/usr/bin/redis-server");
const stackDir = mkdtempSync(join(tmpdir(), "stack-redis-"));
chmodSync(stackDir, 0o755); // the redis user must reach its data folder inside
let port = 0;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function stack(...args: string[]) {
  const proc = Bun.spawnSync([process.execPath, "run", "scripts/stack.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", STACK_DIR: stackDir, STACK_REDIS_PORT: String(port) },
  });
  return { code: proc.exitCode, out: proc.stdout.toString(), err: proc.stderr.toString() };
}

beforeAll(async () => {
  if (!available) return;
  port = await freePort();
  const up = stack("up", "redis");
  if (up.code !== 0) throw new Error(`stack up redis failed:\n${up.out}\n${up.err}`);
}, 60_000);

afterAll(() => {
  if (available) stack("down", "redis");
  rmSync(stackDir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!available)("the stack's Redis requires a password", () => {
  test("stack env's REDIS_URL carries the password, and the API's client works with it", async () => {
    const env = stack("env");
    expect(env.code).toBe(0);
    const url = /export REDIS_URL=(\S+)/.exec(env.out)?.[1];
    expect(url).toMatch(new RegExp(`^redis://:[^@]{16,}@127\\.0\\.0\\.1:${port}$`));
    const config = loadConfig({ MEMORY_MODE: "production", JWT_SECRET: "x".repeat(40), REDIS_URL: url });
    const client = createRedisClient(config.production.redisUrl, silentLogger);
    await client.connect();
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });

  test("a client without the password is refused (NOAUTH)", async () => {
    const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await client.connect();
    await expect(client.get("anything")).rejects.toThrow(/NOAUTH/);
    client.disconnect();
  });

  test("the password and the config holding it are readable by their owner only", () => {
    const password = readFileSync(join(stackDir, "redis", "password"), "utf8").trim();
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(stackDir, "redis", "password")).mode & 0o077).toBe(0);
    expect(statSync(join(stackDir, "redis", "redis.conf")).mode & 0o077).toBe(0);
  });

  test("stack status still sees it up (the probe authenticates)", () => {
    const status = stack("status", "redis");
    expect(status.out).toMatch(/redis\s+\S+\s+\d+\s+up/);
  });
});
