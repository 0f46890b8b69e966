/**
 * A worker's change windows (src/search/change-windows.ts) against the store's own answer: a
 * log of random writes and deletes, read "since" random positions (old and new, in and out of
 * the window, concurrently), must give exactly what the feed itself gives, while the feed is
 * asked for little.
 */
import { describe, expect, test } from "bun:test";
import type { Memory } from "../../src/domain/memory";
import type { ChangedMemories, ChangeFeed } from "../../src/ports/change-feed";
import { ChangeWindows } from "../../src/search/change-windows";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A change log in memory: what the stores' feeds answer, computed the slow obvious way. */
class LogFeed implements ChangeFeed {
  readonly log: { seq: number; id: string }[] = [];
  readonly states = new Map<string, Memory>();
  reads = 0;
  rowsRead = 0;

  write(id: string, version: number): void {
    this.log.push({ seq: this.log.length + 1, id });
    this.states.set(id, {
      id,
      collection_id: "c",
      content: `${id} v${version}`,
      metadata: {},
      created_at: "2026-12-06T00:00:00.000Z",
      updated_at: "2026-12-06T00:00:00.000Z",
      expires_at: null,
    });
  }

  remove(id: string): void {
    this.log.push({ seq: this.log.length + 1, id });
    this.states.delete(id);
  }

  async head(): Promise<number> {
    return this.log.length;
  }

  async changedSince(_c: string, afterSeq: number, maxChanges: number): Promise<ChangedMemories | null> {
    this.reads++;
    await Bun.sleep(0); // a round trip: other askings interleave
    const head = this.log.length;
    if (head - afterSeq > maxChanges) return null;
    const last = new Map<string, number>();
    for (const e of this.log.slice(afterSeq)) last.set(e.id, e.seq);
    this.rowsRead += last.size;
    const out: ChangedMemories = { seq: head, present: [], gone: [] };
    for (const [id, seq] of last) {
      const memory = this.states.get(id);
      if (memory) out.present.push({ seq, memory: { ...memory }, embedding: new Float32Array([seq]), model: null });
      else out.gone.push({ id, seq });
    }
    return out;
  }
}

/** The answer as a comparable value: ids with their state, in id order. */
function normal(changes: ChangedMemories | null) {
  if (changes === null) return null;
  return {
    seq: changes.seq,
    present: changes.present.map((p) => `${p.memory.id}:${p.memory.content}`).sort(),
    gone: changes.gone.map((g) => g.id).sort(),
  };
}

describe("change windows", () => {
  for (const [bounds, minWindowAnswers] of [
    [{ maxPerCollection: 4096, maxTotal: 32_768 }, 600],
    [{ maxPerCollection: 8, maxTotal: 12 }, 100], // small: windows are cut and evicted all the time
  ] as const) {
    test(`answers exactly as the feed for any position (window bounds ${JSON.stringify(bounds)})`, async () => {
      const next = rng(bounds.maxPerCollection);
      const feeds = { a: new LogFeed(), b: new LogFeed() };
      const windows = new ChangeWindows(
        {
          head: (c) => feeds[c as "a" | "b"].head(),
          changedSince: (c, after, max) => feeds[c as "a" | "b"].changedSince(c, after, max),
        },
        bounds,
      );
      let checks = 0;
      for (let round = 0; round < 300; round++) {
        for (const feed of Object.values(feeds)) {
          const writes = Math.floor(next() * 4);
          for (let w = 0; w < writes; w++) {
            const id = `m${Math.floor(next() * 30)}`;
            if (next() < 0.2) feed.remove(id);
            else feed.write(id, round);
          }
        }
        // several askings at once, at recent and old positions, for both collections
        const askings = Array.from({ length: 4 }, () => {
          const c = next() < 0.5 ? "a" : "b";
          const head = feeds[c].log.length;
          const after = next() < 0.7 ? Math.max(0, head - Math.floor(next() * 12)) : Math.floor(next() * (head + 1));
          const max = next() < 0.9 ? 1000 : 5;
          return { c, after, max };
        });
        const got = await Promise.all(askings.map((a) => windows.changedSince(a.c, a.after, a.max)));
        for (let i = 0; i < askings.length; i++) {
          const { c, after, max } = askings[i]!;
          const want = normal(await feeds[c as "a" | "b"].changedSince(c, after, max));
          const have = normal(got[i]!);
          // a window may find fewer distinct memories than the log has entries (so answer where
          // the feed gives up), never a different answer
          if (want === null && have !== null) expect(have.present.length + have.gone.length).toBeLessThanOrEqual(max);
          else expect(have).toEqual(want);
          checks++;
        }
      }
      expect(checks).toBe(1200);
      expect(windows.stats.windowAnswers).toBeGreaterThan(minWindowAnswers);
    });
  }

  test("the store is asked only for what changed since the window's end", async () => {
    const feed = new LogFeed();
    const windows = new ChangeWindows(feed);
    for (let i = 0; i < 50; i++) feed.write(`m${i}`, 0);
    await windows.changedSince("c", 0, 1000); // seeds the window with everything
    const before = feed.rowsRead;
    // 20 popular searches, each at its own position, after each of 10 writes
    for (let w = 0; w < 10; w++) {
      feed.write(`m${w}`, 1);
      for (let s = 0; s < 20; s++) await windows.changedSince("c", Math.max(0, 50 - s), 1000);
    }
    // direct, they would have read 20 × (up to 60) memories per write; the window reads one new one per asking at most
    expect(feed.rowsRead - before).toBeLessThanOrEqual(10);
  });
});
