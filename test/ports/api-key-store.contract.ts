import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { NewApiKey } from "../../src/domain/api-key.ts";
import type { ApiKeyStore } from "../../src/ports/api-key-store.ts";
import { newOwner } from "./contract-setup.ts";

export interface ApiKeyStoreFixture {
  keys: ApiKeyStore;
  cleanup(): Promise<void>;
}

export type ApiKeyStoreFactory = () => Promise<ApiKeyStoreFixture>;

let counter = 0;
/** A key as the routes make one: random-looking id, a hex SHA-256 for a hash. */
function newKey(owner: string, fields: Partial<NewApiKey> = {}): NewApiKey {
  counter++;
  return {
    id: `k${String(counter).padStart(5, "0")}${crypto.randomUUID().replaceAll("-", "").slice(0, 6)}`,
    owner,
    name: `key ${counter}`,
    tier: "pro",
    scopes: ["read"],
    collections: null,
    expires_at: null,
    secret_hash: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    ...fields,
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The ApiKeyStore contract: every adapter keeps, scopes, finds, revokes and touches keys alike. */
export function runApiKeyStoreContract(name: string, factory: ApiKeyStoreFactory): void {
  describe(name, () => {
    let f: ApiKeyStoreFixture;
    beforeEach(async () => {
      f = await factory();
    });
    afterEach(async () => {
      await f.cleanup();
    });

    test("create returns the key without its hash; get and list read it back alike", async () => {
      const owner = newOwner();
      const input = newKey(owner, {
        scopes: ["read", "write"],
        collections: ["c1", "c2"],
        expires_at: "2099-01-02T03:04:05.678Z",
      });
      const created = await f.keys.create(input);
      const { secret_hash: _, ...expected } = input;
      expect(created).toEqual({ ...expected, created_at: expect.stringMatching(ISO), last_used_at: null });
      expect(Math.abs(Date.parse(created.created_at) - Date.now())).toBeLessThan(60_000);
      expect(await f.keys.get(owner, input.id)).toEqual(created);
      expect(await f.keys.list(owner)).toEqual([created]);
      expect("secret_hash" in created).toBe(false);
      expect("secret_hash" in (await f.keys.list(owner))[0]!).toBe(false);
    });

    test("find reads any owner's key with its hash, for verification", async () => {
      const input = newKey(newOwner(), { collections: null });
      const created = await f.keys.create(input);
      expect(await f.keys.find(input.id)).toEqual({ ...created, secret_hash: input.secret_hash });
      expect(await f.keys.find("nonexistent00")).toBeNull();
    });

    test("list, get, count and delete are owner-scoped; list is in creation order", async () => {
      const alice = newOwner();
      const bob = newOwner();
      const a1 = await f.keys.create(newKey(alice));
      const b1 = await f.keys.create(newKey(bob));
      const a2 = await f.keys.create(newKey(alice));
      expect((await f.keys.list(alice)).map((k) => k.id)).toEqual([a1.id, a2.id]);
      expect((await f.keys.list(bob)).map((k) => k.id)).toEqual([b1.id]);
      expect(await f.keys.count(alice)).toBe(2);
      expect(await f.keys.count(newOwner())).toBe(0);
      expect(await f.keys.get(bob, a1.id)).toBeNull();
      expect(await f.keys.delete(bob, a1.id)).toBe(false);
      expect(await f.keys.get(alice, a1.id)).toEqual(a1);
    });

    test("delete revokes: the key is gone for find, get, list and count", async () => {
      const owner = newOwner();
      const key = await f.keys.create(newKey(owner));
      expect(await f.keys.delete(owner, key.id)).toBe(true);
      expect(await f.keys.find(key.id)).toBeNull();
      expect(await f.keys.get(owner, key.id)).toBeNull();
      expect(await f.keys.list(owner)).toEqual([]);
      expect(await f.keys.count(owner)).toBe(0);
      expect(await f.keys.delete(owner, key.id)).toBe(false);
    });

    test("touch records the last use and never moves it backwards; unknown ids are ignored", async () => {
      const owner = newOwner();
      const key = await f.keys.create(newKey(owner));
      await f.keys.touch(key.id, "2030-05-05T10:00:00.000Z");
      expect((await f.keys.get(owner, key.id))?.last_used_at).toBe("2030-05-05T10:00:00.000Z");
      await f.keys.touch(key.id, "2030-05-05T09:00:00.000Z");
      expect((await f.keys.get(owner, key.id))?.last_used_at).toBe("2030-05-05T10:00:00.000Z");
      await f.keys.touch(key.id, "2030-05-05T11:00:00.000Z");
      expect((await f.keys.find(key.id))?.last_used_at).toBe("2030-05-05T11:00:00.000Z");
      await f.keys.touch("nonexistent00", "2030-05-05T11:00:00.000Z");
    });

    test("ids are unique: a second key with the same id is refused", async () => {
      const key = newKey(newOwner());
      await f.keys.create(key);
      await expect(f.keys.create({ ...key, owner: newOwner() })).rejects.toThrow();
      expect((await f.keys.find(key.id))?.owner).toBe(key.owner);
    });
  });
}
