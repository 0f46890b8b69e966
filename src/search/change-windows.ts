import type { ChangedMemories, ChangedMemory, ChangeFeed } from "../ports/change-feed";

interface Entry {
  seq: number;
  /** Its state as of `seq`; null: deleted or expired. */
  present: ChangedMemory | null;
}

/** What this worker knows of one collection's log: every memory changed in (from, to], as of `to`. */
interface Window {
  from: number;
  to: number;
  entries: Map<string, Entry>;
}

export interface ChangeWindowOptions {
  /** Memories kept per collection; beyond it the oldest half is forgotten. */
  maxPerCollection: number;
  /** Memories kept over all collections (each holds its vector); beyond it whole windows go, least recently used first. */
  maxTotal: number;
}

export const CHANGE_WINDOW_DEFAULTS: ChangeWindowOptions = { maxPerCollection: 4096, maxTotal: 32_768 };

/**
 * A worker's window on its collections' change logs, in front of the store's feed. Every
 * roll-forward of a popular search asks "what changed since my position"; positions differ per
 * search but overlap, so without this each asking reads the same changed memories (with their
 * vectors) again: a collection written w times a second and searched by p popular searches made
 * the store read about w × p memories a second. With it, the store is asked only for what changed
 * since the window's end (one memory per write, once per worker), and the answer for any position
 * inside the window is assembled here.
 *
 * Exact: a delta read is one snapshot of (to, seq]; a memory's entry is replaced only by one with
 * a later change, so every entry is its state as of its last change, and an entry's absence from
 * (from, to] means it did not change there.
 */
export class ChangeWindows implements ChangeFeed {
  private readonly windows = new Map<string, Window>();
  private total = 0;
  readonly stats = { windowAnswers: 0, storeReads: 0 };

  constructor(
    private readonly inner: ChangeFeed,
    private readonly options: ChangeWindowOptions = CHANGE_WINDOW_DEFAULTS,
  ) {}

  // never from the window: the search hands the head to hydration as what it must reflect
  head(collectionId: string): Promise<number> {
    return this.inner.head(collectionId);
  }

  async changedSince(collectionId: string, afterSeq: number, maxChanges: number): Promise<ChangedMemories | null> {
    const window = this.windows.get(collectionId);
    if (window && afterSeq >= window.from) {
      this.stats.storeReads++;
      const fetchedAfter = window.to;
      const delta = await this.inner.changedSince(collectionId, fetchedAfter, maxChanges);
      // the window may have moved or been replaced meanwhile (another asking): the delta joins
      // whatever window is current if it leaves no gap
      const current = this.windows.get(collectionId);
      if (delta !== null && current && fetchedAfter <= current.to && afterSeq >= current.from) {
        this.merge(collectionId, current, delta);
        // (merging may have cut the window's older end past this position)
        if (afterSeq >= current.from) {
          this.stats.windowAnswers++;
          return this.select(current, afterSeq, maxChanges);
        }
      }
      if (delta === null) this.drop(collectionId);
    }
    this.stats.storeReads++;
    const full = await this.inner.changedSince(collectionId, afterSeq, maxChanges);
    if (full === null) return null;
    const current = this.windows.get(collectionId);
    if (!current || afterSeq < current.from) this.replace(collectionId, afterSeq, full);
    return full;
  }

  private select(window: Window, afterSeq: number, maxChanges: number): ChangedMemories | null {
    const out: ChangedMemories = { seq: window.to, present: [], gone: [] };
    for (const [id, entry] of window.entries) {
      if (entry.seq <= afterSeq) continue;
      if (entry.present) out.present.push(entry.present);
      else out.gone.push({ id, seq: entry.seq });
      if (out.present.length + out.gone.length > maxChanges) return null;
    }
    return out;
  }

  private merge(collectionId: string, window: Window, delta: ChangedMemories): void {
    const put = (id: string, entry: Entry) => {
      const old = window.entries.get(id);
      if (old && old.seq >= entry.seq) return;
      if (!old) this.total++;
      window.entries.set(id, entry);
    };
    for (const p of delta.present) put(p.memory.id, { seq: p.seq, present: p });
    for (const g of delta.gone) put(g.id, { seq: g.seq, present: null });
    window.to = Math.max(window.to, delta.seq);
    this.touch(collectionId, window);
    this.bound(collectionId, window);
  }

  private replace(collectionId: string, from: number, full: ChangedMemories): void {
    this.drop(collectionId);
    const window: Window = { from, to: full.seq, entries: new Map() };
    this.windows.set(collectionId, window);
    this.merge(collectionId, window, full);
  }

  private drop(collectionId: string): void {
    const window = this.windows.get(collectionId);
    if (!window) return;
    this.total -= window.entries.size;
    this.windows.delete(collectionId);
  }

  /** Most recently used last (Map order), so eviction takes the first. */
  private touch(collectionId: string, window: Window): void {
    this.windows.delete(collectionId);
    this.windows.set(collectionId, window);
  }

  private bound(collectionId: string, window: Window): void {
    if (window.entries.size > this.options.maxPerCollection) {
      // forget the older half: the window then starts at the last change forgotten
      const bySeq = [...window.entries].sort((a, b) => a[1].seq - b[1].seq);
      const cut = bySeq.slice(0, Math.ceil(bySeq.length / 2));
      for (const [id] of cut) window.entries.delete(id);
      window.from = cut.at(-1)![1].seq;
      this.total -= cut.length;
    }
    for (const [id] of this.windows) {
      if (this.total <= this.options.maxTotal || id === collectionId) break;
      this.drop(id);
    }
  }
}


