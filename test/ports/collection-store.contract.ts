import { describe, expect, test } from "bun:test";
import { DuplicateNameError } from "../../src/domain/errors.ts";
import { MATCH_ALL } from "../../src/domain/search.ts";
import { fixturePerTest, ids, newOwner, settle, type StoreFactory, write } from "./contract-setup.ts";
import { queryVector, similar } from "./vectors.ts";

/** The CollectionStore contract; the fixture's memories and vectors are used for cascades. */
export function runCollectionStoreContract(name: string, factory: StoreFactory): void {
  describe(name, () => {
    const f = fixturePerTest(factory);

    test("create returns the collection and get/list read it back", async () => {
      const owner = newOwner();
      const created = await f.collections.create(owner, { name: "notes", description: "my notes" });
      expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(created).toMatchObject({ owner, name: "notes", description: "my notes" });
      expect(Number.isNaN(Date.parse(created.created_at))).toBe(false);
      expect(await f.collections.get(owner, created.id)).toEqual(created);
      expect(await f.collections.list(owner)).toEqual([created]);
    });

    test("description may be null", async () => {
      const owner = newOwner();
      const created = await f.collections.create(owner, { name: "plain", description: null });
      expect(created.description).toBeNull();
      expect((await f.collections.get(owner, created.id))?.description).toBeNull();
    });

    test("list is owner-scoped and in creation order", async () => {
      const alice = newOwner();
      const bob = newOwner();
      const a1 = await f.collections.create(alice, { name: "one", description: null });
      const b1 = await f.collections.create(bob, { name: "one", description: null });
      const a2 = await f.collections.create(alice, { name: "two", description: null });
      expect(ids(await f.collections.list(alice))).toEqual([a1.id, a2.id]);
      expect(ids(await f.collections.list(bob))).toEqual([b1.id]);
      expect(await f.collections.list(newOwner())).toEqual([]);
    });

    test("another owner's collection reads as absent and cannot be deleted", async () => {
      const alice = newOwner();
      const mallory = newOwner();
      const c = await f.collections.create(alice, { name: "private", description: null });
      expect(await f.collections.get(mallory, c.id)).toBeNull();
      expect(await f.collections.delete(mallory, c.id)).toBe(false);
      expect(await f.collections.get(alice, c.id)).toEqual(c);
    });

    test("unknown ids read as absent", async () => {
      const owner = newOwner();
      expect(await f.collections.get(owner, crypto.randomUUID())).toBeNull();
      expect(await f.collections.get(owner, "not-a-uuid")).toBeNull();
      expect(await f.collections.delete(owner, crypto.randomUUID())).toBe(false);
    });

    test("a name is unique per owner", async () => {
      const alice = newOwner();
      const bob = newOwner();
      await f.collections.create(alice, { name: "dup", description: null });
      const error = await f.collections.create(alice, { name: "dup", description: "again" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateNameError);
      expect((error as DuplicateNameError).collectionName).toBe("dup");
      expect(await f.collections.list(alice)).toHaveLength(1);
      // Another owner may use it, and names are case-sensitive.
      await f.collections.create(bob, { name: "dup", description: null });
      await f.collections.create(alice, { name: "DUP", description: null });
    });

    test("dedupe_threshold: null unless given at create; update sets it, null clears it, other updates keep it", async () => {
      const owner = newOwner();
      const plain = await f.collections.create(owner, { name: "plain", description: null });
      expect(plain.dedupe_threshold).toBeNull();
      const c = await f.collections.create(owner, { name: "strict", description: null, dedupe_threshold: 0.875 });
      expect(c.dedupe_threshold).toBe(0.875);
      expect(await f.collections.get(owner, c.id)).toEqual(c);
      const looser = await f.collections.update(owner, c.id, { dedupe_threshold: 0.5 });
      expect(looser).toEqual({ ...c, dedupe_threshold: 0.5 });
      expect(await f.collections.update(owner, c.id, { name: "renamed" })).toEqual({ ...c, name: "renamed", dedupe_threshold: 0.5 });
      expect(await f.collections.update(owner, c.id, { dedupe_threshold: null })).toEqual({ ...c, name: "renamed", dedupe_threshold: null });
      expect((await f.collections.list(owner)).map((x) => x.dedupe_threshold)).toEqual([null, null]);
      expect(await f.collections.update(newOwner(), c.id, { dedupe_threshold: 1 })).toBeNull();
    });

    test("update changes the fields given and keeps the rest; a null description clears it", async () => {
      const owner = newOwner();
      const c = await f.collections.create(owner, { name: "before", description: "old words" });
      const renamed = await f.collections.update(owner, c.id, { name: "after" });
      expect(renamed).toEqual({ ...c, name: "after" });
      expect(await f.collections.get(owner, c.id)).toEqual(renamed);
      const described = await f.collections.update(owner, c.id, { description: "new words" });
      expect(described).toEqual({ ...c, name: "after", description: "new words" });
      expect(await f.collections.update(owner, c.id, { description: null })).toEqual({ ...c, name: "after", description: null });
      expect(await f.collections.update(owner, c.id, { name: "both", description: "at once" })).toEqual({ ...c, name: "both", description: "at once" });
      expect(await f.collections.update(owner, c.id, {})).toEqual({ ...c, name: "both", description: "at once" });
      expect(ids(await f.collections.list(owner))).toEqual([c.id]);
    });

    test("update of another owner's or an unknown collection is null and changes nothing", async () => {
      const alice = newOwner();
      const c = await f.collections.create(alice, { name: "mine", description: null });
      expect(await f.collections.update(newOwner(), c.id, { name: "stolen" })).toBeNull();
      expect(await f.collections.update(alice, crypto.randomUUID(), { name: "x" })).toBeNull();
      expect(await f.collections.update(alice, "not-a-uuid", { name: "x" })).toBeNull();
      expect(await f.collections.get(alice, c.id)).toEqual(c);
    });

    test("update to a name the owner uses for another collection is a DuplicateNameError; its own name is fine", async () => {
      const alice = newOwner();
      const bob = newOwner();
      const first = await f.collections.create(alice, { name: "first", description: null });
      const second = await f.collections.create(alice, { name: "second", description: null });
      await f.collections.create(bob, { name: "taken by bob", description: null });
      const error = await f.collections.update(alice, second.id, { name: "first" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateNameError);
      expect((error as DuplicateNameError).collectionName).toBe("first");
      expect(await f.collections.get(alice, second.id)).toEqual(second);
      expect(await f.collections.update(alice, first.id, { name: "first" })).toEqual(first);
      expect((await f.collections.update(alice, first.id, { name: "taken by bob" }))?.name).toBe("taken by bob");
    });

    test("delete removes it once; its name can be reused", async () => {
      const owner = newOwner();
      const c = await f.collections.create(owner, { name: "temp", description: null });
      expect(await f.collections.delete(owner, c.id)).toBe(true);
      expect(await f.collections.delete(owner, c.id)).toBe(false);
      expect(await f.collections.get(owner, c.id)).toBeNull();
      expect(await f.collections.list(owner)).toEqual([]);
      const again = await f.collections.create(owner, { name: "temp", description: null });
      expect(again.id).not.toBe(c.id);
    });

    test("delete cascades to memories, vectors and keyword rows, and only its own", async () => {
      const owner = newOwner();
      const doomed = await f.collections.create(owner, { name: "doomed", description: null });
      const kept = await f.collections.create(owner, { name: "kept", description: null });
      const d = f.dimensions;
      await f.memories.upsert(doomed.id, [
        write("m1", "aardvark one", similar(d, 0.9, 1)),
        write("m2", "aardvark two", similar(d, 0.8, 2)),
      ]);
      await f.memories.upsert(kept.id, [write("m1", "aardvark kept", similar(d, 0.7, 3))]);
      await settle(f);

      expect(await f.collections.delete(owner, doomed.id)).toBe(true);
      await settle(f);

      const none = MATCH_ALL;
      expect(await f.memories.get(doomed.id, "m1")).toBeNull();
      expect(await f.memories.hydrate(doomed.id, ["m1", "m2"])).toEqual([]);
      expect((await f.memories.list(doomed.id, { limit: 10 })).items).toEqual([]);
      expect(await f.vectors.search(doomed.id, queryVector(d), 10, none)).toEqual([]);
      expect(await f.memories.keywordSearch(doomed.id, "aardvark", 10, none)).toEqual([]);

      expect((await f.memories.get(kept.id, "m1"))?.content).toBe("aardvark kept");
      expect(ids(await f.vectors.search(kept.id, queryVector(d), 10, none))).toEqual(["m1"]);
      expect(ids(await f.memories.keywordSearch(kept.id, "aardvark", 10, none))).toEqual(["m1"]);
    });
  });
}
