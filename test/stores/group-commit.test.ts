/**
 * Group commit (src/stores/postgres/group-commit.ts) on its own: writes that arrive while a
 * key's transaction runs go together in the next one, in arrival order; what may not share a
 * transaction waits for the one after; one write's failure is never another's.
 */
import { expect, test } from "bun:test";
import { GroupCommit } from "../../src/stores/postgres/group-commit";

function recorder(fail: (items: string[]) => boolean = () => false) {
  const transactions: { key: string; items: string[] }[] = [];
  const group = new GroupCommit<string, number>(
    async (key, items) => {
      await Bun.sleep(5); // a transaction takes a while: writes pile up meanwhile
      if (fail(items)) throw new Error(`refused ${items.join(",")}`);
      transactions.push({ key, items });
      return transactions.length;
    },
    (batch, next) => !batch.includes(next) && batch.length < 4,
  );
  return { group, transactions };
}

test("writes that arrive during a transaction are committed together, in order", async () => {
  const { group, transactions } = recorder();
  const results = await Promise.all(["a", "b", "c", "d", "e", "f"].map((w) => group.submit("k", w)));
  expect(transactions).toEqual([
    { key: "k", items: ["a"] },
    { key: "k", items: ["b", "c", "d", "e"] }, // at most 4 a transaction
    { key: "k", items: ["f"] },
  ]);
  expect(results).toEqual([1, 2, 2, 2, 2, 3]);
  expect(group.stats).toEqual({ transactions: 3, writes: 6, isolatedRetries: 0 });
});

test("a write that may not join (the same memory again) waits for the next transaction; keys do not wait for each other", async () => {
  const { group, transactions } = recorder();
  await Promise.all([group.submit("k", "a"), group.submit("k", "b"), group.submit("k", "b"), group.submit("other", "x"), group.submit("k", "c")]);
  expect(transactions.filter((t) => t.key === "k").map((t) => t.items)).toEqual([["a"], ["b"], ["b", "c"]]);
  expect(transactions.filter((t) => t.key === "other").map((t) => t.items)).toEqual([["x"]]);
});

test("a failed shared transaction is retried write by write: only the bad one fails", async () => {
  const { group, transactions } = recorder((items) => items.includes("poison"));
  const settled = await Promise.allSettled(["a", "b", "poison", "c"].map((w) => group.submit("k", w)));
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
  expect(transactions.flatMap((t) => t.items).sort()).toEqual(["a", "b", "c"]);
  expect(group.stats.isolatedRetries).toBe(3);
  // and the key keeps working afterwards
  expect(await group.submit("k", "d")).toBeGreaterThan(0);
});
