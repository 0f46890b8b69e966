import type { Database } from "bun:sqlite";
import type { Hit, SearchFilter } from "../../../domain/search.ts";
import type { StatementCache } from "../database.ts";
import { compileFilter } from "../filters.ts";
import { vectorQuery } from "../vector-queries.ts";
import { CollectionIndex } from "./collection-index.ts";
import { IndexFiles } from "./index-file.ts";
import { type AnnLibrary, type AnnParameters, loadAnnLibrary } from "./library.ts";
import { AnnQueries, type CollectionState } from "./queries.ts";

/** How the ANN indexes of one connection are kept (EMBEDDED_ANN_* in src/config.ts). */
export interface AnnSettings {
  /** The smallest collection (memories) that gets an index; smaller ones are scanned exactly. */
  minRows: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /** The folder graphs are saved in (next to the database); none for `:memory:`. */
  dir?: string;
  /** The HNSW library's module (default "usearch"; tests name one that cannot load). */
  module?: string;
}

/** What a searcher holds and how it answered. */
export interface AnnStats {
  library: "loaded" | "unavailable" | "not loaded";
  indexed: Record<string, { size: number; seq: number }>;
  answered: { ann: number; exact: number };
}

export type AnnLog = (level: "info" | "warn", msg: string, fields?: Record<string, unknown>, once?: boolean) => void;

/** Rows added to a graph between two turns of the event loop while building (~0.1 s of work). */
const BUILD_BATCH = 256;
/** Log entries applied before a search answers; a longer lag is caught up in the background (the search meanwhile scans exactly). */
const SYNC_CATCH_UP = 2_000;
/** Larger k gains nothing from the graph: exact scan. */
const MAX_ANN_K = 1_024;
/** Candidates taken from the graph and rescored exactly: unfiltered, and filtered (first try, then this many times more, once). */
const candidates = (k: number) => Math.max(2 * k, 40);
const filteredCandidates = (k: number) => Math.max(10 * k, 100);
const WIDEN = 8;
/** A build that failed is not retried for this long. */
const RETRY_MS = 60_000;
/** Collections whose row counts are remembered (for the size threshold). */
const MAX_COUNTS = 10_000;
/** Big enough a build to log its progress. */
const PROGRESS_ROWS = 20_000;

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Semantic search of one connection's collections: an HNSW graph (USearch) per collection of at
 * least `minRows` memories, an exact scan (vector-queries.ts) for the rest and whenever the graph
 * cannot answer exactly enough. SQLite stays the source of truth:
 *
 * - Each graph records the change-log head it reflects; a search first applies the log since
 *   then (the current state of each row it names), so a write is in the very next search
 *   (read-your-writes, also for writes by another process on the same file).
 * - Candidates from the graph are rescored with the exact float32 vectors and filtered in one
 *   SQL statement; a filter that leaves fewer than k of them after one widening gets the exact
 *   filtered scan (so a selective filter is answered exactly).
 * - Building, loading and long catch-ups run in the background in small steps; until a graph is
 *   ready the collection is scanned exactly. A graph is saved next to the database and loaded at
 *   the next start, then caught up from the log; a file that does not check out is rebuilt.
 * - If the native library cannot load, every search is exact (one warning).
 */
export class AnnSearcher {
  private library: AnnLibrary | null | undefined;
  private loading = false;
  private readonly queries: AnnQueries;
  private readonly files?: IndexFiles;
  private readonly parameters: AnnParameters;
  private readonly indexes = new Map<string, CollectionIndex>();
  /** Collections with background work queued or running. */
  private readonly busy = new Set<string>();
  private readonly failed = new Map<string, number>();
  private readonly counts = new Map<string, { rows: number; head: number }>();
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly answered = { ann: 0, exact: 0 };

  constructor(
    db: Database,
    private readonly statements: StatementCache,
    dimensions: number,
    private readonly settings: AnnSettings,
    private readonly log: AnnLog = () => {},
  ) {
    this.queries = new AnnQueries(db, statements);
    this.files = settings.dir === undefined ? undefined : new IndexFiles(settings.dir);
    this.parameters = {
      dimensions,
      connectivity: settings.connectivity,
      expansionAdd: settings.expansionAdd,
      expansionSearch: settings.expansionSearch,
    };
  }

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    const index = k <= MAX_ANN_K ? this.ready(collectionId) : undefined;
    const hits = index === undefined ? null : this.tryGraph(collectionId, index, vector, k, filter);
    if (hits !== null) {
      this.answered.ann++;
      return hits;
    }
    this.answered.exact++;
    return this.exact(collectionId, vector, k, filter);
  }

  /** What the searcher holds and how it answered (tests, the bench). */
  stats(): AnnStats {
    const indexed: AnnStats["indexed"] = {};
    for (const [id, index] of this.indexes) indexed[id] = { size: index.graph.size(), seq: index.seq };
    const library = this.library === undefined ? "not loaded" : this.library === null ? "unavailable" : "loaded";
    return { library, indexed, answered: { ...this.answered } };
  }

  /**
   * Opens (loads, or builds) the index of every collection `owns` that is big enough, and
   * resolves when they are ready: at start, so that the first searches after a restart find them.
   */
  async warm(owns: (collectionId: string) => boolean = () => true): Promise<void> {
    if (this.library === undefined) this.loadLibrary();
    await this.idle();
    for (const { id } of this.queries.all.all()) if (owns(id)) this.ready(id);
    await this.idle();
  }

  /** Resolves when the background work queued so far is done (tests, and a bench's warm-up). */
  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.work) {
      seen = this.work;
      await seen;
    }
  }

  close(): void {
    this.closed = true;
    this.indexes.clear();
  }

  private exact(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Hit[] {
    const query = vectorQuery(collectionId, vector, k, filter);
    return this.statements.get<Hit>(query.sql).all(...query.params);
  }

  /** The collection's graph, caught up, or undefined (scan exactly) while there is none to use. */
  private ready(collectionId: string): CollectionIndex | undefined {
    if (this.library === undefined) this.loadLibrary();
    if (this.library == null) return undefined;
    const state = this.queries.collection(collectionId);
    if (state === null) {
      this.forget(collectionId);
      return undefined;
    }
    const index = this.indexes.get(collectionId);
    if (state.reembedding) return undefined; // its vectors are changing outside the log; rebuilt when done (epoch)
    if (index === undefined) {
      if (this.bigEnough(collectionId, state)) this.schedule(collectionId, "open", () => this.open(collectionId));
      return undefined;
    }
    if (index.epoch !== state.epoch || state.head < index.seq) {
      this.indexes.delete(collectionId);
      this.schedule(collectionId, "rebuild", () => this.build(collectionId, "re-embedded or restored"));
      return undefined;
    }
    if (state.head > index.seq) {
      if (state.head - index.seq > SYNC_CATCH_UP) {
        this.schedule(collectionId, "catch up", async () => void (await this.catchUp(collectionId, index)));
        return undefined;
      }
      if (!this.applyLog(collectionId, index, state.head)) return undefined;
    }
    if (index.graph.size() < this.settings.minRows / 2) {
      this.forget(collectionId); // shrunk well below the threshold: the scan is as fast
      return undefined;
    }
    return index;
  }

  /** The graph's answer; a graph that fails is dropped (rebuilt later) and the scan answers. */
  private tryGraph(collectionId: string, index: CollectionIndex, vector: Float32Array, k: number, filter: SearchFilter): Hit[] | null {
    try {
      return this.searchGraph(collectionId, index, vector, k, filter);
    } catch (error) {
      this.indexes.delete(collectionId);
      this.failed.set(collectionId, Date.now());
      this.log("warn", "an ANN index failed a search; the collection is scanned exactly meanwhile", { collection_id: collectionId, error: (error as Error).message });
      return null;
    }
  }

  private searchGraph(collectionId: string, index: CollectionIndex, vector: Float32Array, k: number, filter: SearchFilter): Hit[] | null {
    const size = index.graph.size();
    const where = compileFilter(filter, "m");
    if (where.sql === "1") {
      const found = index.graph.search(vector, Math.min(size, candidates(k)));
      return this.queries.rescore(collectionId, vector, found.keys, where, k);
    }
    for (let want = filteredCandidates(k), tries = 0; tries < 2 && want < size; want *= WIDEN, tries++) {
      const found = index.graph.search(vector, want);
      const hits = this.queries.rescore(collectionId, vector, found.keys, where, k);
      if (hits.length >= k) return hits;
    }
    return null; // a selective filter: the exact filtered scan
  }

  private bigEnough(collectionId: string, state: CollectionState): boolean {
    const known = this.counts.get(collectionId);
    const recount = Math.max(32, Math.ceil(this.settings.minRows / 20));
    if (known !== undefined && state.head - known.head < recount) return known.rows >= this.settings.minRows;
    const rows = this.queries.rows.get(collectionId)!.n;
    if (this.counts.size >= MAX_COUNTS) this.counts.clear();
    this.counts.set(collectionId, { rows, head: state.head });
    return rows >= this.settings.minRows;
  }

  private loadLibrary(): void {
    if (this.loading) return;
    this.loading = true;
    this.work = this.work.then(async () => {
      try {
        this.library = await loadAnnLibrary(this.settings.module);
        this.sweep();
      } catch (error) {
        this.library = null;
        this.log("warn", "the ANN library (USearch) could not load: every semantic search scans exactly", { error: (error as Error).message }, true);
      }
    });
  }

  /** Removes the saved graphs of collections that no longer exist. */
  private sweep(): void {
    if (this.files === undefined) return;
    for (const id of this.files.collections()) if (!this.queries.exists(id)) this.files.drop(id);
  }

  /** Drops what this searcher holds of a collection (deleted, or shrunk); files of ones it never held are left to the sweep at start. */
  private forget(collectionId: string): void {
    const held = this.indexes.delete(collectionId) || this.busy.has(collectionId);
    this.counts.delete(collectionId);
    if (held) this.files?.drop(collectionId);
  }

  /** Queues background work for a collection, once at a time, one collection after another. */
  private schedule(collectionId: string, what: string, task: () => Promise<void>): void {
    if (this.busy.has(collectionId) || this.closed) return;
    const failedAt = this.failed.get(collectionId);
    if (failedAt !== undefined && Date.now() - failedAt < RETRY_MS) return;
    this.busy.add(collectionId);
    this.work = this.work.then(async () => {
      try {
        if (!this.closed) await task();
      } catch (error) {
        if (this.closed) return;
        this.failed.set(collectionId, Date.now());
        this.log("warn", `the ANN index could not ${what}; the collection is scanned exactly meanwhile`, { collection_id: collectionId, error: (error as Error).message });
      } finally {
        this.busy.delete(collectionId);
      }
    });
  }

  /** Loads the saved graph and catches it up, or builds one. */
  private async open(collectionId: string): Promise<void> {
    const loaded = this.files?.load(this.library!, collectionId, this.parameters);
    if (loaded?.graph != null) {
      const state = this.queries.collection(collectionId);
      if (state === null) return this.forget(collectionId);
      if (loaded.meta.epoch === state.epoch && loaded.meta.seq <= state.head) {
        const index = new CollectionIndex(loaded.graph, loaded.meta.seq, loaded.meta.epoch);
        if (await this.catchUp(collectionId, index, false)) {
          this.log("info", "ANN index loaded", { collection_id: collectionId, size: index.graph.size(), behind: state.head - loaded.meta.seq });
          return;
        }
        return this.build(collectionId, "the change log no longer reaches back to the saved index");
      }
      return this.build(collectionId, "the saved index is from another epoch of the collection");
    }
    return this.build(collectionId, loaded?.why ?? "not saved (in-memory database)");
  }

  /**
   * Builds a graph from the rows, a batch per turn of the event loop, then applies the log from
   * the head it started at (rows written meanwhile may be read twice: applying is idempotent).
   */
  private async build(collectionId: string, why: string): Promise<void> {
    const start = this.queries.collection(collectionId);
    if (start === null) return this.forget(collectionId);
    if (start.reembedding) return;
    const total = this.queries.rows.get(collectionId)!.n;
    const big = total >= PROGRESS_ROWS;
    if (big) this.log("info", "building the ANN index", { collection_id: collectionId, rows: total, why });
    const began = performance.now();
    const index = new CollectionIndex(this.library!.create(this.parameters), start.head, start.epoch);
    let after = 0;
    let added = 0;
    let reported = 0;
    for (;;) {
      const rows = this.queries.batch.all(collectionId, after, BUILD_BATCH);
      if (rows.length === 0) break;
      index.add(rows);
      after = rows[rows.length - 1]!.key;
      added += rows.length;
      if (big && added - reported >= total / 10) {
        reported = added;
        this.log("info", "building the ANN index", { collection_id: collectionId, rows: added, of: total });
      }
      await turn();
      if (this.closed) return;
    }
    if (!(await this.catchUp(collectionId, index, false))) throw new Error("the change log was pruned while the index was built");
    const now = this.queries.collection(collectionId);
    if (now === null || now.epoch !== start.epoch) return; // deleted or re-embedded meanwhile: the next search decides again
    if (big) this.log("info", "ANN index built", { collection_id: collectionId, rows: index.graph.size(), seconds: Math.round(performance.now() - began) / 1000 });
    this.save(collectionId, index);
  }

  /**
   * Applies the log to the head in steps (a turn of the event loop between them); the graph is
   * in use from the end. False when the log no longer holds what the graph lacks (pruned).
   */
  private async catchUp(collectionId: string, index: CollectionIndex, inUse = true): Promise<boolean> {
    for (;;) {
      const state = this.queries.collection(collectionId);
      if (state === null) {
        this.forget(collectionId);
        return false;
      }
      if (state.head === index.seq) break;
      if (!this.applyLog(collectionId, index, Math.min(state.head, index.seq + SYNC_CATCH_UP))) return false;
      await turn();
      if (this.closed) return false;
    }
    if (inUse ? this.indexes.get(collectionId) === index : true) this.indexes.set(collectionId, index);
    return true;
  }

  /** Applies the log up to `head` in one read transaction; false (and a rebuild queued) when it is pruned. */
  private applyLog(collectionId: string, index: CollectionIndex, head: number): boolean {
    const applied = this.queries.snapshot(() => {
      const span = this.queries.span.get(collectionId, index.seq, head)!;
      if (span.logged !== head - index.seq || span.keyed !== span.logged) return false;
      index.apply(this.queries.changed.all(collectionId, collectionId, index.seq, head), head);
      return true;
    });
    if (!applied) {
      if (this.indexes.get(collectionId) === index) this.indexes.delete(collectionId);
      this.schedule(collectionId, "rebuild", () => this.build(collectionId, "the change log no longer reaches back to the index"));
      return false;
    }
    const size = index.graph.size();
    if (index.tombstones > Math.max(1_000, size)) {
      this.schedule(collectionId, "rebuild", () => this.build(collectionId, "more removed rows than live ones"));
    } else if (index.unsaved >= Math.max(1_000, size / 10)) {
      this.schedule(collectionId, "save", async () => this.save(collectionId, index));
    }
    return true;
  }

  private save(collectionId: string, index: CollectionIndex): void {
    index.unsaved = 0;
    if (this.files === undefined) return;
    try {
      this.files.save(index.graph, { collectionId, parameters: this.parameters, seq: index.seq, epoch: index.epoch });
    } catch (error) {
      this.log("warn", "the ANN index could not be saved; it is rebuilt at the next start", { collection_id: collectionId, error: (error as Error).message }, true);
    }
  }
}
