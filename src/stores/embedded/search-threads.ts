import type { SQLQueryBindings } from "bun:sqlite";
import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { StatementCache } from "./database.ts";
import type { AnnLog, AnnSettings, AnnStats } from "./ann/searcher.ts";
import type { SearchThreadReply, SearchThreadRequest } from "./search-thread-protocol.ts";

/** A search (vector or keyword) as SQL and its parameters: run on a search thread or the main connection alike. */
export interface ReadQuery {
  sql: string;
  params: SQLQueryBindings[];
  /**
   * For a statement that reads a bounded candidate set: when it returns fewer than `below` hits,
   * its answer may be short, and this statement's (unbounded) answer is the search's.
   */
  orElse?: { below: number; sql: string; params: SQLQueryBindings[] };
}

/** Runs a read query (and its fallback where the first answer may be short) on one connection. */
export function readHits(statements: StatementCache, query: ReadQuery): Hit[] {
  const hits = statements.get<Hit>(query.sql).all(...query.params);
  if (query.orElse === undefined || hits.length >= query.orElse.below) return hits;
  return statements.get<Hit>(query.orElse.sql).all(...query.orElse.params);
}

export interface SearchThreadsOptions {
  /** The database file (never `:memory:`: a thread cannot see another connection's memory). */
  path: string;
  threads: number;
  cacheSizeKiB?: number;
  mmapSizeBytes?: number;
  busyTimeoutMs?: number;
  /** ANN indexes on the threads (each collection's on one thread); absent: exact scans. */
  ann?: AnnSettings;
  dimensions?: number;
  /** Where the threads' log lines go. */
  log?: AnnLog;
}

/** A vector search as the threads take it. */
export interface VectorSearch {
  collectionId: string;
  vector: Float32Array;
  k: number;
  filter: SearchFilter;
}

/** The threads cannot answer this query (not started, stopped, or died): run it elsewhere. */
export class SearchThreadsUnavailable extends Error {}

interface Pending {
  resolve(value: Hit[] | AnnStats): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Why it answers no more queries: it could not open the file, or it exited. */
  down?: string;
  /** It could not open the file: a replacement would not either. */
  unusable?: boolean;
}

const THREAD_ENTRY = new URL("./search-thread.ts", import.meta.url).href;

/** FNV-1a of a collection id: which thread keeps its ANN index. */
export function ownerOf(collectionId: string, threads: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < collectionId.length; i++) h = Math.imul(h ^ collectionId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % threads;
}

/**
 * Search queries (vector and keyword) on a few worker threads, each with its own read-only
 * connection, sent to the thread with the fewest queries in flight. A thread that dies is
 * replaced (its queries fail with SearchThreadsUnavailable, which the caller answers on its own
 * connection); one that cannot open the file stays down, and with all of them down every query
 * is unavailable.
 */
export class SearchThreads {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private served = 0;
  private replaced = 0;
  private readonly logged = new Set<string>();

  constructor(private readonly options: SearchThreadsOptions) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    }
    for (let i = 0; i < options.threads; i++) this.threads.push(this.spawn());
  }

  private spawn(): Thread {
    const worker = new Worker(THREAD_ENTRY);
    const thread: Thread = { worker, pending: new Map() };
    const index = this.threads.length;
    worker.onmessage = (event: MessageEvent<SearchThreadReply>) => this.receive(thread, event.data);
    worker.addEventListener("close", () => this.lost(thread, "the search thread exited"));
    worker.addEventListener("error", (event) => {
      this.lost(thread, `the search thread failed: ${(event as ErrorEvent).message}`);
      worker.terminate();
    });
    worker.unref(); // an idle thread never keeps the process alive; one with queries does (run)
    const open: SearchThreadRequest = {
      kind: "open",
      path: this.options.path,
      cacheSizeKiB: this.options.cacheSizeKiB ?? 65_536,
      mmapSizeBytes: this.options.mmapSizeBytes ?? 256 * 1024 * 1024,
      busyTimeoutMs: this.options.busyTimeoutMs ?? 5000,
      ann: this.options.ann ?? null,
      dimensions: this.options.dimensions ?? 0,
      owner: { index, of: this.options.threads },
    };
    worker.postMessage(open);
    return thread;
  }

  private receive(thread: Thread, message: SearchThreadReply): void {
    if (message.kind === "log") {
      if (message.once === true && this.logged.has(message.msg)) return;
      if (message.once === true) this.logged.add(message.msg);
      this.options.log?.(message.level, message.msg, message.fields);
      return;
    }
    if (message.kind === "unusable") {
      thread.down = message.message;
      thread.unusable = true;
      this.failAll(thread, message.message);
      return;
    }
    const pending = thread.pending.get(message.id);
    if (pending === undefined) return;
    thread.pending.delete(message.id);
    if (thread.pending.size === 0) thread.worker.unref();
    // a thread that reported "unusable" had its queries failed then (messages arrive in order)
    if (message.kind === "hits") {
      this.served++;
      pending.resolve(message.hits);
    } else if (message.kind === "warmed") {
      pending.resolve(message.stats);
    } else {
      pending.reject(new Error(message.message));
    }
  }

  private lost(thread: Thread, why: string): void {
    thread.down ??= why;
    this.failAll(thread, why);
    const index = this.threads.indexOf(thread);
    if (index < 0 || this.closed || thread.unusable) return;
    this.threads[index] = this.spawn();
    this.replaced++;
  }

  private failAll(thread: Thread, why: string): void {
    for (const pending of thread.pending.values()) pending.reject(new SearchThreadsUnavailable(why));
    thread.pending.clear();
    thread.worker.unref();
  }

  /** Runs the query on the least busy live thread. */
  run(query: ReadQuery): Promise<Hit[]> {
    let best: Thread | undefined;
    for (const thread of this.threads) {
      if (thread.down !== undefined) continue;
      if (best === undefined || thread.pending.size < best.pending.size) best = thread;
    }
    return this.send<Hit[]>(best, (id) => ({ kind: "query", id, query }));
  }

  /** Whether vector searches go through ANN indexes on the threads (else they are plain queries). */
  get ann(): boolean {
    return this.options.ann !== undefined;
  }

  /**
   * Runs a vector search on the thread that keeps the collection's ANN index: one copy of each
   * index (memory, build work), searched where its log catch-up runs. The index answers in well
   * under a millisecond, so one thread per collection is far from the bound (the embedder is).
   */
  searchVectors(search: VectorSearch): Promise<Hit[]> {
    const owner = this.threads[ownerOf(search.collectionId, this.threads.length)];
    return this.send<Hit[]>(owner?.down === undefined ? owner : undefined, (id) => ({ kind: "vector", id, ...search }));
  }

  /**
   * Has each thread open (load, or build) the ANN index of every collection it keeps that is big
   * enough, and resolves when they are ready, with each thread's state.
   */
  warm(): Promise<AnnStats[]> {
    return Promise.all(this.threads.map((thread) => this.send<AnnStats>(thread.down === undefined ? thread : undefined, (id) => ({ kind: "warm", id }))));
  }

  private send<T extends Hit[] | AnnStats>(thread: Thread | undefined, request: (id: number) => SearchThreadRequest): Promise<T> {
    if (this.closed || thread === undefined) {
      return Promise.reject(new SearchThreadsUnavailable(this.closed ? "the search threads are stopped" : this.threads[0]?.down));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve: resolve as (value: Hit[] | AnnStats) => void, reject });
      thread.worker.postMessage(request(id));
    });
  }

  stats(): { threads: number; live: number; served: number; replaced: number; inFlight: number } {
    const live = this.threads.filter((t) => t.down === undefined);
    return {
      threads: this.threads.length,
      live: live.length,
      served: this.served,
      replaced: this.replaced,
      inFlight: live.reduce((n, t) => n + t.pending.size, 0),
    };
  }

  /** Stops the threads; queries in flight fail as unavailable. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const thread of this.threads) {
      this.failAll(thread, "the search threads are stopped");
      thread.worker.terminate();
    }
  }
}

/**
 * Runs a search on the threads when there are any and they can answer, else on the main
 * connection: the same SQL, the same answer, only where it runs differs.
 */
export async function runSearch(threads: SearchThreads | undefined, statements: StatementCache, query: ReadQuery): Promise<Hit[]> {
  if (threads !== undefined) {
    try {
      return await threads.run(query);
    } catch (error) {
      if (!(error instanceof SearchThreadsUnavailable)) throw error;
    }
  }
  return readHits(statements, query);
}
