/**
 * The ONNX sentence embedder: the `Embedder` port backed by a local transformers.js model
 * folder, with inference in a worker thread (see embed-worker.ts), micro-batching of
 * concurrent calls, a bounded queue and an LRU of query embeddings.
 *
 * Batching: texts from concurrent `embed` calls wait in a queue; at most one batch is in each
 * worker at a time. A batch (≤ maxBatch texts, queries before documents so searches do not
 * wait behind an ingest) leaves on the next macrotask after the first text arrives, or as
 * soon as a worker returns its previous one, so under load batches fill up by themselves.
 * With several workers (one model copy each), the waiting texts are shared between the idle
 * ones: on a CPU a batch costs about its texts' sum, so two half batches finish sooner.
 */
import { QueueFullError } from "../domain/errors.ts";
import type { Embedder } from "../ports/embedder.ts";
import { checkModelFolder, loaderLocation, type ModelFolder } from "./model-folder.ts";
import { modelFingerprint } from "./model-identity.ts";
import { LRUCache } from "lru-cache";
import type { EmbedRequest, FromWorker, InitMessage } from "./embed-worker.ts";

export interface OnnxEmbedderOptions {
  /** Model folder, e.g. "models/all-minilm-l6-v2" (see models/README.md). */
  modelDir: string;
  /** Most texts per worker batch. Default 32. */
  maxBatch?: number;
  /** Most texts waiting for the worker; beyond it `embed` rejects with QueueFullError. Default 2048. */
  maxQueue?: number;
  /** Query embeddings kept in the LRU (0 disables it). Default 10000. */
  queryCacheSize?: number;
  /** onnxruntime intra-op threads in each worker. Default 1. */
  threads?: number;
  /** Workers, each with its own copy of the model, embedding batches side by side. Default 1. */
  workers?: number;
  /**
   * Embed each text on its own inside the worker. A quantized model's vectors otherwise depend
   * slightly on which texts share the batch (cosine ≈ 0.99 to the single-text vector); this
   * makes them exactly reproducible at ~30–40% less throughput. Default false.
   */
  batchInvariant?: boolean;
  /**
   * Work that must yield to requests (the premium bi-encoder): each worker's thread runs in
   * Linux's SCHED_IDLE class, or at this nice value where that is refused. Default: normal.
   */
  background?: { idleScheduling: boolean; nice: number };
}

export interface EmbedderStats {
  model: string;
  dimensions: number;
  /** Texts waiting for the worker. */
  queueDepth: number;
  /** Texts in the batch the worker is embedding now (0 when idle). */
  inFlight: number;
  /** Size of the most recent batch sent to the worker. */
  lastBatchSize: number;
  /** Largest batch sent so far. */
  maxBatchSeen: number;
  batches: number;
  /** Batches each worker has embedded (one entry per worker). */
  workerBatches: number[];
  textsEmbedded: number;
  queryCacheHits: number;
  queryCacheMisses: number;
  queryCacheEntries: number;
}

export interface OnnxEmbedder extends Embedder {
  stats(): EmbedderStats;
}

interface Slot {
  text: string;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

const DEFAULTS = { maxBatch: 32, maxQueue: 2048, queryCacheSize: 10000, threads: 1, workers: 1 };
const WARM_UP = ["warm-up", "The quick brown fox jumps over the lazy dog.", "hello world", "memory api"];

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

interface EmbedThread {
  worker: Worker;
  inFlight: { id: number; slots: Slot[] } | null;
  batches: number;
}

class WorkerEmbedder implements OnnxEmbedder {
  readonly model: string;
  readonly dimensions: number;
  readonly fingerprint: string;

  private readonly queries: Slot[] = [];
  private readonly documents: Slot[] = [];
  /** Query embeddings by prefixed text; null when the cache is sized 0. */
  private readonly cache: LRUCache<string, Float32Array> | null;
  private readonly pendingQueries = new Map<string, Promise<Float32Array>>();
  private readonly threads: EmbedThread[];
  private flushScheduled = false;
  private nextId = 1;
  private dead: Error | null = null;
  private closed = false;
  private counters = { lastBatchSize: 0, maxBatchSeen: 0, batches: 0, textsEmbedded: 0, hits: 0, misses: 0 };

  constructor(
    workers: Worker[],
    private readonly folder: ModelFolder,
    private readonly maxBatch: number,
    private readonly maxQueue: number,
    queryCacheSize: number,
    fingerprint: string,
  ) {
    this.model = folder.spec.name;
    this.fingerprint = fingerprint;
    this.dimensions = folder.spec.dimensions;
    this.cache = queryCacheSize > 0 ? new LRUCache<string, Float32Array>({ max: queryCacheSize }) : null;
    this.threads = workers.map((worker) => ({ worker, inFlight: null, batches: 0 }));
    for (const thread of this.threads) {
      thread.worker.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(thread, e.data);
      thread.worker.addEventListener("error", (e: ErrorEvent) => this.die(new Error(`embed worker crashed: ${e.message}`)));
      thread.worker.addEventListener("close", () => this.die(new Error("embed worker exited")));
    }
  }

  embed(texts: string[], kind: "query" | "document"): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new Error("embedder is closed"));
    if (this.dead) return Promise.reject(this.dead);
    const prefix = kind === "query" ? this.folder.spec.query_prefix : this.folder.spec.document_prefix;
    const out: Array<Promise<Float32Array> | Float32Array> = new Array(texts.length);
    const fresh: Array<{ index: number; text: string }> = [];
    for (let i = 0; i < texts.length; i++) {
      const text = prefix + texts[i];
      if (kind === "query") {
        const cached = this.cache?.get(text);
        if (cached) {
          this.counters.hits++;
          out[i] = cached.slice();
          continue;
        }
        const pending = this.pendingQueries.get(text);
        if (pending) {
          this.counters.hits++;
          out[i] = pending.then((v) => v.slice());
          continue;
        }
        this.counters.misses++;
      }
      fresh.push({ index: i, text });
    }
    if (fresh.length > 0) {
      if (fresh.length > this.maxQueue) {
        return Promise.reject(new RangeError(`at most ${this.maxQueue} texts can be embedded in one call, got ${fresh.length}`));
      }
      if (this.queueDepth + fresh.length > this.maxQueue) return Promise.reject(new QueueFullError("embedder"));
      const lane = kind === "query" ? this.queries : this.documents;
      for (const { index, text } of fresh) {
        const p = new Promise<Float32Array>((resolve, reject) => lane.push({ text, resolve, reject }));
        if (kind === "query") {
          const cached = p.then((v) => {
            this.cache?.set(text, v.slice());
            return v;
          });
          cached.then(
            () => this.pendingQueries.delete(text),
            () => this.pendingQueries.delete(text),
          );
          this.pendingQueries.set(text, cached);
          out[index] = cached;
        } else {
          out[index] = p;
        }
      }
      this.schedule();
    }
    return Promise.all(out);
  }

  stats(): EmbedderStats {
    const c = this.counters;
    return {
      model: this.model,
      dimensions: this.dimensions,
      queueDepth: this.queueDepth,
      inFlight: this.threads.reduce((n, t) => n + (t.inFlight?.slots.length ?? 0), 0),
      lastBatchSize: c.lastBatchSize,
      maxBatchSeen: c.maxBatchSeen,
      batches: c.batches,
      workerBatches: this.threads.map((t) => t.batches),
      textsEmbedded: c.textsEmbedded,
      queryCacheHits: c.hits,
      queryCacheMisses: c.misses,
      queryCacheEntries: this.cache?.size ?? 0,
    };
  }

  resetStats(): void {
    this.counters = { lastBatchSize: 0, maxBatchSeen: 0, batches: 0, textsEmbedded: 0, hits: 0, misses: 0 };
    for (const thread of this.threads) thread.batches = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error("embedder is closed"));
    for (const thread of this.threads) thread.worker.terminate();
  }

  /** Sends `texts` straight to every worker, bypassing queue and cache (warm-up). */
  async warmUp(texts: string[]): Promise<void> {
    await Promise.all(this.threads.map((thread) => this.direct(thread, texts)));
  }

  private direct(thread: EmbedThread, texts: string[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      const results: Float32Array[] = [];
      let left = texts.length;
      const slots = texts.map((text, i) => ({
        text,
        resolve: (v: Float32Array) => {
          results[i] = v;
          if (--left === 0) resolve(results);
        },
        reject,
      }));
      this.send(thread, slots);
    });
  }

  private get queueDepth(): number {
    return this.queries.length + this.documents.length;
  }

  private idle(): EmbedThread | undefined {
    return this.threads.find((t) => t.inFlight === null);
  }

  private schedule(): void {
    if (this.idle() === undefined) return; // a returning batch schedules the next flush
    if (this.queueDepth >= this.maxBatch) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.closed || this.dead) return;
    const idle = this.threads.filter((t) => t.inFlight === null);
    for (let i = 0; i < idle.length && this.queueDepth > 0; i++) {
      const thread = idle[i]!;
      const size = Math.min(this.maxBatch, Math.ceil(this.queueDepth / (idle.length - i)));
      const slots = this.queries.splice(0, size);
      if (slots.length < size) slots.push(...this.documents.splice(0, size - slots.length));
      this.send(thread, slots);
    }
  }

  private send(thread: EmbedThread, slots: Slot[]): void {
    const id = this.nextId++;
    thread.inFlight = { id, slots };
    this.counters.lastBatchSize = slots.length;
    this.counters.maxBatchSeen = Math.max(this.counters.maxBatchSeen, slots.length);
    this.counters.batches++;
    thread.batches++;
    thread.worker.ref();
    const req: EmbedRequest = { type: "embed", id, texts: slots.map((s) => s.text) };
    thread.worker.postMessage(req);
  }

  private onMessage(thread: EmbedThread, msg: FromWorker): void {
    if (msg.type !== "result" && msg.type !== "error") return;
    const batch = thread.inFlight;
    if (!batch || batch.id !== msg.id) return;
    thread.inFlight = null;
    thread.worker.unref();
    if (msg.type === "error") {
      const err = new Error(`embedding failed: ${msg.message}`);
      for (const s of batch.slots) s.reject(err);
    } else if (msg.dims !== this.dimensions || msg.data.length !== msg.dims * batch.slots.length) {
      const err = new Error(
        `model returned ${msg.data.length / Math.max(1, batch.slots.length)} values per text, memory-api.json says ${this.dimensions}`,
      );
      for (const s of batch.slots) s.reject(err);
    } else {
      const d = msg.dims;
      batch.slots.forEach((s, i) => s.resolve(msg.data.slice(i * d, (i + 1) * d)));
      this.counters.textsEmbedded += batch.slots.length;
    }
    // Next macrotask: callers woken by this batch (microtasks) can join the next one.
    if (this.queueDepth > 0) this.schedule();
  }

  private die(err: Error): void {
    if (this.closed || this.dead) return;
    this.dead = err;
    this.failAll(err);
  }

  private failAll(err: Error): void {
    const slots = [...this.threads.flatMap((t) => t.inFlight?.slots ?? []), ...this.queries.splice(0), ...this.documents.splice(0)];
    for (const thread of this.threads) thread.inFlight = null;
    for (const s of slots) s.reject(err);
  }
}

/** Waits for the worker's answer to its init message. */
function waitReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: ErrorEvent) => {
      cleanup();
      reject(new Error(`embed worker failed to start: ${e.message}`));
    };
    const onMessage = (e: MessageEvent<FromWorker>) => {
      if (e.data.type === "ready") {
        cleanup();
        resolve();
      } else if (e.data.type === "failed") {
        cleanup();
        reject(new Error(`loading the embedding model failed: ${e.data.message}`));
      }
    };
    const cleanup = () => {
      worker.removeEventListener("message", onMessage as EventListener);
      worker.removeEventListener("error", onError as EventListener);
    };
    worker.addEventListener("message", onMessage as EventListener);
    worker.addEventListener("error", onError as EventListener);
  });
}

/**
 * Checks the model folder, starts the worker, loads the model and runs a warm-up batch, so the
 * model is hot when this resolves. Throws ModelFolderError (naming the missing file) before
 * starting anything if the folder is incomplete.
 */
export async function createOnnxEmbedder(opts: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  const maxBatch = positiveInt("maxBatch", opts.maxBatch ?? DEFAULTS.maxBatch);
  const maxQueue = positiveInt("maxQueue", opts.maxQueue ?? DEFAULTS.maxQueue);
  const threads = positiveInt("threads", opts.threads ?? DEFAULTS.threads);
  const workerCount = positiveInt("workers", opts.workers ?? DEFAULTS.workers);
  const queryCacheSize = opts.queryCacheSize ?? DEFAULTS.queryCacheSize;
  if (!Number.isInteger(queryCacheSize) || queryCacheSize < 0) throw new RangeError("queryCacheSize must be an integer >= 0");

  const folder = checkModelFolder(opts.modelDir);
  const fingerprint = await modelFingerprint(folder);
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL("./embed-worker.ts", import.meta.url).href));
  try {
    const init: InitMessage = {
      type: "init",
      ...loaderLocation(folder),
      dtype: folder.dtype,
      pooling: folder.spec.pooling,
      normalize: folder.spec.normalize,
      threads,
      batchInvariant: opts.batchInvariant ?? false,
      ...(opts.background ? { background: opts.background } : {}),
    };
    await Promise.all(
      workers.map((worker) => {
        const ready = waitReady(worker);
        worker.postMessage(init);
        return ready;
      }),
    );
    const embedder = new WorkerEmbedder(workers, folder, maxBatch, maxQueue, queryCacheSize, fingerprint);
    await embedder.warmUp(WARM_UP.slice(0, 1));
    await embedder.warmUp(WARM_UP);
    embedder.resetStats(); // stats describe real traffic, not the warm-up
    for (const worker of workers) worker.unref(); // an idle embedder must not keep the process alive
    return embedder;
  } catch (e) {
    for (const worker of workers) worker.terminate();
    throw e;
  }
}

/** Stats of an embedder made by createOnnxEmbedder; null for other Embedder implementations. */
export function embedderStats(e: Embedder): EmbedderStats | null {
  const s = (e as Partial<OnnxEmbedder>).stats;
  return typeof s === "function" ? s.call(e) : null;
}
