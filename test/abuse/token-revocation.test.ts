/**
 * Attack (issue 18, item 8): a leaked token stays usable until it expires; nothing can revoke it.
 * Now a revocation by token id (jti) or by user (sub) reaches every worker within a second:
 * two app instances share the mode's store (a SQLite file embedded, Redis in production) as two
 * workers would, and the revoked token (already memoised by both) is refused by both.
 */
import { silentLogger } from "../../src/log";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RedisClient } from "../../src/stores/redis/client";
import { deleteKeysEverywhere } from "../support/redis-keys";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app";
import { backendName } from "../support/backend";
import { productionConfig } from "../support/services";
import { createTokenService } from "../../src/auth/tokens";
import { RevocationList } from "../../src/auth/revocation-list";
import { SqliteRevocationStore } from "../../src/stores/embedded/revocations";
import type { RevocationStore } from "../../src/ports/revocation-store";

const DEADLINE_MS = 1000;
const dir = mkdtempSync(join(tmpdir(), "revocation-"));
const prefix = `memory-api-test:revoked:${crypto.randomUUID()}:`;
const redisClients: RedisClient[] = [];

async function openStore(): Promise<RevocationStore> {
  if (backendName() === "embedded") return new SqliteRevocationStore(join(dir, "revocations.db"));
  const [{ createRedisClient }, { RedisRevocationStore }] = await Promise.all([import("../../src/stores/redis/client"), import("../../src/stores/redis/revocations")]);
  const client = createRedisClient(productionConfig.redis, silentLogger); // one server, or the cluster of the cluster-mode pass
  await client.connect();
  redisClients.push(client);
  return new RedisRevocationStore(client, prefix);
}

interface Worker {
  t: TestApp;
  store: RevocationStore;
  list: RevocationList;
}
const workers: Worker[] = [];

async function openWorker(): Promise<Worker> {
  const store = await openStore();
  const list = await new RevocationList(store, { refreshMs: 250 }).start();
  const t = await createTestApp({ tokens: createTokenService(TEST_SECRET, { revocations: list }) });
  return { t, store, list };
}

beforeAll(async () => {
  workers.push(await openWorker(), await openWorker());
}, 120_000);
afterAll(async () => {
  for (const w of workers) {
    await w.list.close();
    await w.store.close();
    await w.t.close();
  }
  if (redisClients[0]) await deleteKeysEverywhere(redisClients[0], `${prefix}*`);
  for (const c of redisClients) c.disconnect();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const status = async (w: Worker, token: string) => (await w.t.call("GET", "/v1/collections", { token })).status;

/** Polls until every worker answers 401, or the deadline passes; returns the statuses last seen. */
async function untilRefused(token: string): Promise<number[]> {
  const deadline = Date.now() + DEADLINE_MS;
  let seen: number[] = [];
  do {
    seen = await Promise.all(workers.map((w) => status(w, token)));
    if (seen.every((s) => s === 401)) return seen;
    await Bun.sleep(25);
  } while (Date.now() < deadline);
  return seen;
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { jti: string };

describe(`token revocation across two workers (${backendName()})`, () => {
  test("a token revoked by its jti is refused by every worker within a second, memoised or not", async () => {
    const [a, b] = workers as [Worker, Worker];
    const token = await a.t.token("leaky");
    const other = await a.t.token("leaky");
    expect(await status(a, token)).toBe(200);
    expect(await status(b, token)).toBe(200); // both have it memoised now
    await a.store.revokeJti(claimsOf(token).jti, Date.now() + 60_000);
    expect(await untilRefused(token)).toEqual([401, 401]);
    const reply = await b.t.call("GET", "/v1/collections", { token });
    expect(reply.headers.get("content-type")).toContain("application/problem+json");
    expect(reply.body.detail).toBe("token has been revoked");
    // the user's other token is untouched
    expect(await status(b, other)).toBe(200);
  });

  test("revoking a user refuses every token issued until then; a token minted later works", async () => {
    const [a, b] = workers as [Worker, Worker];
    const first = await a.t.token("departed");
    const second = await b.t.token("departed", "pro");
    expect(await status(a, first)).toBe(200);
    expect(await status(b, second)).toBe(200);
    await b.store.revokeSub("departed", Math.floor(Date.now() / 1000), Date.now() + 60_000);
    expect(await untilRefused(first)).toEqual([401, 401]);
    expect(await untilRefused(second)).toEqual([401, 401]);
    // iat has second granularity: the revocation covers its own second
    await Bun.sleep(1100 - (Date.now() % 1000));
    const fresh = await a.t.token("departed");
    expect(await status(a, fresh)).toBe(200);
    expect(await status(b, fresh)).toBe(200);
  });

  test("another user's tokens are not affected", async () => {
    const token = await workers[0]!.t.token("bystander");
    expect(await status(workers[1]!, token)).toBe(200);
  });
});
