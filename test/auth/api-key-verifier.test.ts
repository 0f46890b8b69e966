/**
 * The verifier's cost and bounds, counted on a store that records its calls: one store read per
 * key per cache period however many requests arrive at once, last_used_at written at most once an
 * interval and never on the request's path, revocation seen after the cache period.
 */
import { describe, expect, test } from "bun:test";
import { ApiKeyVerifier, API_KEY_CACHE_MS } from "../../src/auth/api-key-verifier";
import { mintApiKey } from "../../src/auth/api-key-format";
import { silentLogger } from "../../src/log";
import { openEmbeddedStores } from "../../src/stores/embedded";
import type { ApiKeyStore } from "../../src/ports/api-key-store";

function countingStore() {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: 8 });
  const calls = { find: 0, touch: 0 };
  const inner = stores.apiKeys;
  const store: ApiKeyStore = {
    create: (k) => inner.create(k),
    list: (o) => inner.list(o),
    get: (o, id) => inner.get(o, id),
    count: (o) => inner.count(o),
    delete: (o, id) => inner.delete(o, id),
    find: async (id) => {
      calls.find++;
      await Bun.sleep(5); // a store round trip, so concurrent requests overlap it
      return inner.find(id);
    },
    touch: async (id, at) => {
      calls.touch++;
      return inner.touch(id, at);
    },
  };
  return { store, calls, close: () => stores.close() };
}

async function storedKey(store: ApiKeyStore, owner = "alice") {
  const minted = mintApiKey();
  await store.create({
    id: minted.id,
    owner,
    name: "k",
    tier: "starter",
    scopes: ["read"],
    collections: ["c1"],
    expires_at: null,
    secret_hash: minted.secretHash,
  });
  return minted;
}

describe("ApiKeyVerifier", () => {
  test("a key is its owner at the recorded tier, with its scopes and allow-list", async () => {
    const { store, close } = countingStore();
    const key = await storedKey(store);
    const principal = await new ApiKeyVerifier({ store, log: silentLogger }).verify(key.key);
    expect(principal).toEqual({
      userId: "alice",
      tier: "starter",
      exp: Number.POSITIVE_INFINITY,
      key: { id: key.id, scopes: ["read"], collections: ["c1"] },
    });
    close();
  });

  test("100 concurrent requests with one key cost one store read; the next period costs one more", async () => {
    const { store, calls, close } = countingStore();
    const key = await storedKey(store);
    const verifier = new ApiKeyVerifier({ store, log: silentLogger });
    const all = await Promise.all(Array.from({ length: 100 }, () => verifier.verify(key.key)));
    expect(all.every((p) => p?.userId === "alice")).toBe(true);
    expect(calls.find).toBe(1);
    for (let i = 0; i < 50; i++) await verifier.verify(key.key);
    expect(calls.find).toBe(1);
    await Bun.sleep(API_KEY_CACHE_MS + 50);
    await verifier.verify(key.key);
    expect(calls.find).toBe(2);
    close();
  });

  test("a malformed key is refused without a store read", async () => {
    const { store, calls, close } = countingStore();
    const verifier = new ApiKeyVerifier({ store, log: silentLogger });
    for (const token of ["mapi_", "mapi_abc_def", `mapi_${"a".repeat(12)}_${"b".repeat(44)}`]) {
      expect(await verifier.verify(token)).toBeNull();
    }
    expect(calls.find).toBe(0);
    close();
  });

  test("last_used_at is written after the request, once per interval", async () => {
    const { store, calls, close } = countingStore();
    const key = await storedKey(store);
    const verifier = new ApiKeyVerifier({ store, log: silentLogger, touchIntervalMs: 60_000 });
    await verifier.verify(key.key);
    expect(calls.touch).toBe(0); // not on the request's path
    await Bun.sleep(10);
    expect(calls.touch).toBe(1);
    for (let i = 0; i < 20; i++) await verifier.verify(key.key);
    await Bun.sleep(10);
    expect(calls.touch).toBe(1);
    expect((await store.get("alice", key.id))?.last_used_at).not.toBeNull();
    close();
  });

  test("the cache period cannot be set above the documented bound", async () => {
    const { store, calls, close } = countingStore();
    const key = await storedKey(store);
    const verifier = new ApiKeyVerifier({ store, log: silentLogger, cacheMs: 60_000 });
    await verifier.verify(key.key);
    await store.delete("alice", key.id);
    const revokedAt = Date.now();
    for (;;) {
      const startedAt = Date.now();
      if ((await verifier.verify(key.key)) === null) break;
      expect(startedAt - revokedAt).toBeLessThan(API_KEY_CACHE_MS);
      await Bun.sleep(20);
    }
    expect(calls.find).toBe(2);
    close();
  });
});
