/**
 * Attack (issue 18, item 8): the token CLI minted tokens valid for 30 days by default (and for
 * years on request), and nothing could take one back. Now it mints 1-hour tokens unless told
 * otherwise, needs --long past 24 hours, never exceeds the server's maximum age, and
 * `bun run token revoke` reaches a running server through the mode's shared store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type Redis from "ioredis";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app";
import { backendName } from "../support/backend";
import { productionConfig } from "../support/services";
import { createTokenService } from "../../src/auth/tokens";
import { RevocationList } from "../../src/auth/revocation-list";
import { SqliteRevocationStore } from "../../src/stores/embedded/revocations";
import type { RevocationStore } from "../../src/ports/revocation-store";

const ROOT = resolve(import.meta.dir, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "token-cli-"));
const production = backendName() === "production";
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "",
  JWT_SECRET: TEST_SECRET,
  DATA_DIR: dataDir,
  ...(production ? { MEMORY_MODE: "production", REDIS_URL: productionConfig.redisUrl } : {}),
};

function cli(...args: string[]) {
  const proc = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", ...args], { cwd: ROOT, env });
  return { code: proc.exitCode, out: proc.stdout.toString().trim(), err: proc.stderr.toString() };
}
const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number; jti: string; sub: string };

let t: TestApp;
let store: RevocationStore;
let list: RevocationList;
let redis: Redis | undefined;

beforeAll(async () => {
  if (production) {
    const [{ default: IORedis }, { RedisRevocationStore }] = await Promise.all([import("ioredis"), import("../../src/stores/redis/revocations")]);
    redis = new IORedis(productionConfig.redisUrl);
    store = new RedisRevocationStore(redis); // the default keys: the ones the CLI writes
  } else {
    store = new SqliteRevocationStore(join(dataDir, "revocations.db"));
  }
  list = await new RevocationList(store, { refreshMs: 100 }).start();
  t = await createTestApp({ tokens: createTokenService(TEST_SECRET, { revocations: list }) });
}, 120_000);
afterAll(async () => {
  await list.close();
  await store.close();
  await t.close();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe("bun run token: lifetimes", () => {
  test("mints a 1-hour token by default and prints its id to stderr", () => {
    const { code, out, err } = cli("--sub", "cli-default");
    expect(code).toBe(0);
    const c = claims(out);
    expect(c.exp - c.iat).toBe(3600);
    expect(err).toContain(c.jti);
  });

  test("refuses more than 24 hours without --long", () => {
    const { code, out, err } = cli("--sub", "cli-long", "--days", "30");
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain("needs --long");
  });

  test("mints a long token with --long, up to the server's maximum age", () => {
    const { code, out } = cli("--sub", "cli-long", "--days", "30", "--long");
    expect(code).toBe(0);
    const c = claims(out);
    expect(c.exp - c.iat).toBe(30 * 86_400);
  });

  test("never past JWT_MAX_AGE_SECONDS, even with --long", () => {
    const { code, err } = cli("--sub", "cli-years", "--days", "3650", "--long");
    expect(code).toBe(2);
    expect(err).toContain("JWT_MAX_AGE_SECONDS");
  });
});

describe(`bun run token revoke (${backendName()} store)`, () => {
  async function refusedWithin(token: string, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    let status = 0;
    do {
      status = (await t.call("GET", "/v1/collections", { token })).status;
      if (status === 401) return status;
      await Bun.sleep(25);
    } while (Date.now() < deadline);
    return status;
  }

  test("revoke --jti refuses that token on a running server", async () => {
    const token = cli("--sub", `cli-revoke-${crypto.randomUUID()}`).out;
    expect((await t.call("GET", "/v1/collections", { token })).status).toBe(200);
    const revoked = cli("revoke", "--jti", claims(token).jti);
    expect(revoked.code).toBe(0);
    expect(await refusedWithin(token, 1000)).toBe(401);
  });

  test("revoke --sub refuses every token of the user", async () => {
    const sub = `cli-revoke-${crypto.randomUUID()}`;
    const token = cli("--sub", sub).out;
    expect((await t.call("GET", "/v1/collections", { token })).status).toBe(200);
    expect(cli("revoke", "--sub", sub).code).toBe(0);
    expect(await refusedWithin(token, 1000)).toBe(401);
  });

  test("revoke needs exactly one of --jti and --sub", () => {
    expect(cli("revoke").code).toBe(2);
    expect(cli("revoke", "--jti", "a", "--sub", "b").code).toBe(2);
  });
});
