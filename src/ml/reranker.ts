/**
 * The ONNX cross-encoder reranker (the `Reranker` port). The model runs in a Bun Worker
 * (`rerank-worker.ts`) so scoring never blocks the event loop. Concurrent `score` calls
 * are coalesced: their (query, document) pairs are packed into batches of at most
 * `maxBatchPairs`, one batch in flight at a time; a request larger than a batch is split
 * across batches. Waiting requests are bounded by `maxQueue`; past it `score` rejects
 * with `QueueFullError("reranker")` (the HTTP layer answers 503 + Retry-After).
 *
 * The model folder is the layout transformers.js loads offline:
 *   config.json, tokenizer.json, tokenizer_config.json,
 *   onnx/model_quantized.onnx (int8, preferred) and/or onnx/model.onnx (fp32).
 * A `cross-encoder/ms-marco-MiniLM-L-6-v2` export from a user's own copy drops in as is.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { QueueFullError } from "../domain/errors.ts";
import type { Reranker } from "../ports/reranker.ts";
import type { FromWorker, ToWorker } from "./rerank-worker.ts";

export interface OnnxRerankerOptions {
  /** Folder holding config.json, tokenizer files and onnx/model*.onnx. */
  modelDir: string;
  /** Most (query, document) pairs in one inference batch. Default 32. */
  maxBatchPairs?: number;
  /** Most `score` requests waiting (not yet in flight); more are rejected. Default 64. */
  maxQueue?: number;
  /** Token budget of one pair; the end of a long document is cut. Default 128 (what models/reranker was trained with). */
  maxLength?: number;
  /** Most pairs in one inference call; a batch is sorted by length and run in slices. Default 16. */
  sliceRows?: number;
  /**
   * Most milliseconds a `score` call waits for its scores; past it the call rejects with
   * QueueFullError (the search answers unreranked rather than slowly). Default 1000.
   */
  maxWaitMs?: number;
  /** Which weights: "q8" = onnx/model_quantized.onnx, "fp32" = onnx/model.onnx. Default: q8 if present. */
  dtype?: "q8" | "fp32";
  /** ONNX Runtime intra-op threads in the worker. Default 1 (the workers of a cluster share the cores). */
  threads?: number;
  /**
   * Linux SCHED_IDLE for the inference thread (default true): it runs only on CPU time that
   * request threads do not want, so reranking cannot slow other tiers down.
   */
  idleScheduling?: boolean;
  /**
   * Nice value of the inference thread when idle scheduling is off or unavailable (Linux),
   * default 10. 0 leaves it unchanged.
   */
  nice?: number;
  /** Seconds a rejected caller is told to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /**
   * Machine-wide cap on inference threads running at once while foreground requests run
   * (`noteForegroundWork` within the last second), shared by every process using the same
   * folder of lock files (see cpu-slots.ts). Absent = uncapped.
   */
  cpuSlots?: { dir: string; count: number };
  /**
   * Share of the time the inference thread may compute while foreground requests run and the
   * CPU is contended; it pauses after such a slice (see rerank-worker.ts). Default 1 (never pause).
   */
  contendedDuty?: number;
}

/** Live figures for /metrics. */
export interface RerankerStats {
  /** `score` requests waiting, not yet (fully) sent to the worker. */
  queueDepth: number;
  /** Pairs of those requests still to be scored. */
  queuedPairs: number;
  /** Pairs in the batch being scored now (0 when idle). */
  inFlightPairs: number;
  /** Pairs in the last finished batch. */
  lastBatchPairs: number;
  /** Wall time of the last batch inside the worker (tokenise + inference), ms. */
  lastInferenceMs: number;
  /** Calls that gave up waiting (maxWaitMs) and were answered unreranked. */
  timedOut: number;
  /** Calls turned away at once because the work ahead of them would outlast maxWaitMs. */
  shed: number;
  /** Recent inference cost per pair (ms, moving average); 0 before the first batch. */
  msPerPair: number;
  /** Latency-sensitive requests noted (`noteForegroundWork`): reranking yields to them. */
  foregroundNoted: number;
  batches: number;
  pairsScored: number;
  rejected: number;
}

export interface OnnxReranker extends Reranker {
  stats(): RerankerStats;
  /** How the inference thread is scheduled: "idle" (SCHED_IDLE), "nice", or "normal" (neither could be set). */
  readonly scheduling: "idle" | "nice" | "normal";
  /** The machine-wide inference slots in force, or null when uncapped. */
  readonly cpuSlots: number | null;
  noteForegroundWork(): void;
}

interface Pending {
  query: string;
  documents: string[];
  scores: number[];
  /** Next document index not yet sent to the worker. */
  sent: number;
  /** Documents whose score came back. */
  done: number;
  /** Gave up waiting: already rejected; its scores, if they come, are dropped. */
  abandoned: boolean;
  resolve: (scores: number[]) => void;
  reject: (err: Error) => void;
}

interface Segment {
  req: Pending;
  from: number;
  count: number;
}

const WEIGHTS = { q8: "onnx/model_quantized.onnx", fp32: "onnx/model.onnx" } as const;

/**
 * Checks the folder before transformers.js sees it (its own errors for a missing file are
 * cryptic) and picks the weights. Throws an Error naming every missing file.
 */
export function checkModelDir(modelDir: string, dtype?: "q8" | "fp32"): "q8" | "fp32" {
  const dir = resolve(modelDir);
  const hint =
    "A reranker folder needs config.json, tokenizer.json, tokenizer_config.json and onnx/model_quantized.onnx " +
    "or onnx/model.onnx (see models/README.md: the committed models/reranker, or your own copy of " +
    "cross-encoder/ms-marco-MiniLM-L-6-v2 exported to ONNX).";
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`reranker model folder ${dir} does not exist. ${hint}`);
  }
  const missing = ["config.json", "tokenizer.json", "tokenizer_config.json"].filter((f) => !existsSync(join(dir, f)));
  let chosen = dtype;
  if (dtype) {
    if (!existsSync(join(dir, WEIGHTS[dtype]))) missing.push(WEIGHTS[dtype]);
  } else if (existsSync(join(dir, WEIGHTS.q8))) {
    chosen = "q8";
  } else if (existsSync(join(dir, WEIGHTS.fp32))) {
    chosen = "fp32";
  } else {
    missing.push(`${WEIGHTS.q8} (or ${WEIGHTS.fp32})`);
  }
  if (missing.length > 0) {
    throw new Error(`reranker model folder ${dir} is missing ${missing.join(", ")}. ${hint}`);
  }
  try {
    JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch (err) {
    throw new Error(`reranker model folder ${dir}: config.json is not valid JSON (${(err as Error).message})`);
  }
  return chosen!;
}

export async function createOnnxReranker(opts: OnnxRerankerOptions): Promise<OnnxReranker> {
  const modelDir = resolve(opts.modelDir);
  const dtype = checkModelDir(modelDir, opts.dtype);
  const maxBatchPairs = positiveInt(opts.maxBatchPairs ?? 32, "maxBatchPairs");
  const maxQueue = positiveInt(opts.maxQueue ?? 64, "maxQueue");
  const maxLength = positiveInt(opts.maxLength ?? 128, "maxLength");
  const sliceRows = positiveInt(opts.sliceRows ?? 16, "sliceRows");
  const maxWaitMs = positiveInt(opts.maxWaitMs ?? 1000, "maxWaitMs");
  const threads = positiveInt(opts.threads ?? 1, "threads");
  const contendedDuty = opts.contendedDuty ?? 1;
  if (!(contendedDuty > 0 && contendedDuty <= 1)) {
    throw new Error(`reranker option contendedDuty must be in (0, 1], got ${contendedDuty}`);
  }
  const retryAfter = opts.retryAfterSeconds ?? 1;

  const worker = new Worker(new URL("./rerank-worker.ts", import.meta.url).href, { type: "module" });
  const foreground = new Int32Array(new SharedArrayBuffer(4));
  const send = (msg: ToWorker) => worker.postMessage(msg);

  const queue: Pending[] = [];
  let inFlight: { id: number; segments: Segment[]; pairs: number } | null = null;
  let nextId = 1;
  let closed = false;
  let broken: Error | null = null;
  let dispatchScheduled = false;
  const stats: RerankerStats = {
    queueDepth: 0,
    queuedPairs: 0,
    inFlightPairs: 0,
    lastBatchPairs: 0,
    lastInferenceMs: 0,
    timedOut: 0,
    shed: 0,
    msPerPair: 0,
    foregroundNoted: 0,
    batches: 0,
    pairsScored: 0,
    rejected: 0,
  };

  const failAll = (err: Error) => {
    const seen = new Set<Pending>();
    for (const seg of inFlight?.segments ?? []) seen.add(seg.req);
    for (const req of queue) seen.add(req);
    inFlight = null;
    queue.length = 0;
    for (const req of seen) req.reject(err);
  };

  // Start-up: wait for the worker to load the model (or say why it could not).
  let scheduling: OnnxReranker["scheduling"] = "normal";
  let cpuSlots: number | null = null;
  await new Promise<void>((resolveReady, rejectReady) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const msg = event.data;
      if (msg.type === "ready") {
        scheduling = msg.scheduling;
        cpuSlots = msg.cpuSlots;
        resolveReady();
      }
      else if (msg.type === "init-error") rejectReady(new Error(`reranker model ${modelDir} failed to load: ${msg.message}`));
    };
    worker.onerror = (event: ErrorEvent) => rejectReady(new Error(`reranker worker failed to start: ${event.message}`));
    send({
      type: "init",
      modelDir,
      dtype,
      maxLength,
      threads,
      nice: opts.nice ?? 10,
      idleScheduling: opts.idleScheduling ?? true,
      sliceRows,
      cpuSlots: opts.cpuSlots,
      contendedDuty,
      foreground: foreground.buffer as SharedArrayBuffer,
    });
  }).catch((err: Error) => {
    worker.terminate();
    throw err;
  });

  const dispatch = () => {
    dispatchScheduled = false;
    if (inFlight || closed || broken || queue.length === 0) return;
    const segments: Segment[] = [];
    const queries: string[] = [];
    const documents: string[] = [];
    for (const req of queue) {
      if (queries.length >= maxBatchPairs) break;
      const count = Math.min(req.documents.length - req.sent, maxBatchPairs - queries.length);
      if (count <= 0) continue;
      segments.push({ req, from: req.sent, count });
      for (let i = req.sent; i < req.sent + count; i++) {
        queries.push(req.query);
        documents.push(req.documents[i]!);
      }
      req.sent += count;
    }
    // A request leaves the queue once all its pairs are sent.
    while (queue.length > 0 && queue[0]!.sent === queue[0]!.documents.length) queue.shift();
    const id = nextId++;
    inFlight = { id, segments, pairs: queries.length };
    send({ type: "score", id, queries, documents });
  };

  const schedule = () => {
    if (dispatchScheduled) return;
    dispatchScheduled = true;
    // setImmediate lets every score() call made in the same tick join the batch.
    setImmediate(dispatch);
  };

  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const msg = event.data;
    if (msg.type !== "scores" && msg.type !== "score-error") return;
    if (!inFlight || inFlight.id !== msg.id) return;
    const batch = inFlight;
    inFlight = null;
    if (msg.type === "scores") {
      stats.batches++;
      stats.pairsScored += batch.pairs;
      stats.lastBatchPairs = batch.pairs;
      stats.lastInferenceMs = msg.inferenceMs;
      const perPair = msg.inferenceMs / Math.max(1, batch.pairs);
      stats.msPerPair = stats.msPerPair === 0 ? perPair : 0.7 * stats.msPerPair + 0.3 * perPair;
      let k = 0;
      for (const seg of batch.segments) {
        for (let i = 0; i < seg.count; i++) seg.req.scores[seg.from + i] = msg.scores[k++]!;
        seg.req.done += seg.count;
        if (seg.req.done === seg.req.documents.length && !seg.req.abandoned) seg.req.resolve(seg.req.scores);
      }
    } else {
      const err = new Error(`reranker inference failed: ${msg.message}`);
      const failed = new Set(batch.segments.map((s) => s.req));
      for (const req of failed) {
        const at = queue.indexOf(req);
        if (at >= 0) queue.splice(at, 1);
        req.reject(err);
      }
    }
    schedule();
  };
  worker.onerror = (event: ErrorEvent) => {
    broken = new Error(`reranker worker crashed: ${event.message}`);
    failAll(broken);
  };

  const queuedPairs = () => queue.reduce((n, r) => n + r.documents.length - r.sent, 0);

  return {
    model: basename(modelDir),
    scheduling,
    cpuSlots,

    noteForegroundWork(): void {
      Atomics.add(foreground, 0, 1);
    },

    score(query: string, documents: string[]): Promise<number[]> {
      if (closed) return Promise.reject(new Error("reranker is closed"));
      if (broken) return Promise.reject(broken);
      if (documents.length === 0) return Promise.resolve([]);
      if (queue.length >= maxQueue) {
        stats.rejected++;
        return Promise.reject(new QueueFullError("reranker", retryAfter));
      }
      // Work that would only time out is not started: past the point where the pairs ahead
      // (at the recent cost per pair) outlast maxWaitMs, a caller is answered unreranked at
      // once, and the thread spends its time on calls that can still finish in time. An idle
      // reranker always takes the call, so the cost estimate keeps being measured.
      const ahead = queuedPairs() + (inFlight?.pairs ?? 0);
      if (ahead > 0 && (ahead + documents.length) * stats.msPerPair > maxWaitMs) {
        stats.shed++;
        return Promise.reject(new QueueFullError("reranker", retryAfter));
      }
      return new Promise<number[]>((resolveScores, rejectScores) => {
        const req: Pending = {
          query,
          documents,
          scores: new Array<number>(documents.length),
          sent: 0,
          done: 0,
          abandoned: false,
          resolve: (scores) => {
            clearTimeout(deadline);
            resolveScores(scores);
          },
          reject: (err) => {
            clearTimeout(deadline);
            rejectScores(err);
          },
        };
        // Under a load the CPU cannot carry (the idle-class thread starved by request threads),
        // a caller gets its answer unreranked in time rather than a slow reranked one.
        const deadline = setTimeout(() => {
          req.abandoned = true;
          stats.timedOut++;
          const at = queue.indexOf(req);
          if (at >= 0) queue.splice(at, 1);
          rejectScores(new QueueFullError("reranker", retryAfter));
        }, maxWaitMs);
        queue.push(req);
        if (!inFlight) schedule();
      });
    },

    stats(): RerankerStats {
      return {
        ...stats,
        queueDepth: queue.length,
        foregroundNoted: Atomics.load(foreground, 0),
        queuedPairs: queuedPairs(),
        inFlightPairs: inFlight?.pairs ?? 0,
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      failAll(new Error("reranker is closed"));
      worker.terminate();
    },
  };
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`reranker option ${name} must be a positive integer, got ${value}`);
  return value;
}
