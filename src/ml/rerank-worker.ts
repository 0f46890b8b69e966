/**
 * The reranker's worker thread: loads a cross-encoder (tokenizer + ONNX sequence
 * classifier) with @huggingface/transformers, offline, and scores batches of
 * (query, document) pairs sent by `reranker.ts`. All CPU work happens here, off the
 * server's event loop. One batch at a time; the main thread does the queueing.
 */
import {
  AutoModelForSequenceClassification,
  AutoTokenizer,
  Tensor,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from "@huggingface/transformers";
import { basename, dirname } from "node:path";
import { lowerThreadPriority, threadCpuClock, useIdleScheduling } from "./thread-priority";
import { CpuSlots } from "./cpu-slots";

export interface InitMessage {
  type: "init";
  /** Absolute path of the model folder. */
  modelDir: string;
  /** "q8" loads onnx/model_quantized.onnx, "fp32" onnx/model.onnx. */
  dtype: "q8" | "fp32";
  /** Token budget of one pair; longer pairs lose the end of the document. */
  maxLength: number;
  /** ONNX Runtime intra-op threads. */
  threads: number;
  /** Nice value of this thread (and the inference threads it starts); 0 = unchanged. */
  nice: number;
  /** SCHED_IDLE for this thread (and the inference threads it starts), instead of `nice`. */
  idleScheduling: boolean;
  /** Most pairs in one inference call: a batch is sorted by length and run in slices this big. */
  sliceRows: number;
  /** Machine-wide inference slots (see cpu-slots.ts); absent = uncapped. */
  cpuSlots?: { dir: string; count: number };
  /**
   * Share of the time this thread computes while foreground requests run and the CPU is
   * contended (0 < duty ≤ 1): after such a slice it pauses so that it computed `duty` of the
   * time. 1 = never pause.
   */
  contendedDuty: number;
  /** Int32 slot 0 counts latency-sensitive requests started by the main thread (`noteForegroundWork`). */
  foreground: SharedArrayBuffer;
}

export interface ScoreMessage {
  type: "score";
  id: number;
  queries: string[];
  documents: string[];
}

export type ToWorker = InitMessage | ScoreMessage;

export type FromWorker =
  | { type: "ready"; numLabels: number; maxLength: number; scheduling: "idle" | "nice" | "normal"; cpuSlots: number | null }
  | { type: "init-error"; message: string }
  | { type: "scores"; id: number; scores: Float64Array; inferenceMs: number }
  | { type: "score-error"; id: number; message: string };

declare const self: Worker;

let tokenizer: PreTrainedTokenizer | null = null;
let model: PreTrainedModel | null = null;
let maxLength = 512;
let numLabels = 1;
let sliceRows = 16;
let scheduling: "idle" | "nice" | "normal" = "normal";
let slots: CpuSlots | null = null;
let contendedDuty = 1;
let cpuClock: (() => number) | null = null;
let foreground = new Int32Array(new SharedArrayBuffer(4));
/** When foreground requests were last seen to start (ms, performance.now()), and the count then. */
let foregroundSeenAt = Number.NEGATIVE_INFINITY;
let foregroundTicks = 0;

/** Whether foreground requests started since the last look (and if so, notes when). */
function foregroundStarted(): boolean {
  const ticks = Atomics.load(foreground, 0);
  if (ticks === foregroundTicks) return false;
  foregroundTicks = ticks;
  foregroundSeenAt = performance.now();
  return true;
}
/** Within this long of the last foreground request, inference takes a CPU slot and yields. */
const FOREGROUND_WINDOW_MS = 1000;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

function post(message: FromWorker): void {
  self.postMessage(message);
}

async function init(msg: InitMessage): Promise<void> {
  // before onnxruntime starts any thread, so they inherit it
  if (msg.idleScheduling && useIdleScheduling()) scheduling = "idle";
  else if (lowerThreadPriority(msg.nice)) scheduling = "nice";
  sliceRows = msg.sliceRows;
  if (msg.cpuSlots) slots = CpuSlots.open(msg.cpuSlots.dir, msg.cpuSlots.count);
  contendedDuty = msg.contendedDuty;
  if (contendedDuty < 1) cpuClock = threadCpuClock();
  foreground = new Int32Array(msg.foreground);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(msg.modelDir);
  const id = basename(msg.modelDir);
  tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
  model = await AutoModelForSequenceClassification.from_pretrained(id, {
    local_files_only: true,
    dtype: msg.dtype,
    device: "cpu",
    session_options: { intraOpNumThreads: msg.threads, interOpNumThreads: 1 },
  });
  const config = model.config as unknown as { id2label?: Record<string, string>; num_labels?: number };
  numLabels = config.id2label ? Object.keys(config.id2label).length : (config.num_labels ?? 1);
  if (numLabels !== 1 && numLabels !== 2) {
    throw new Error(
      `config.json declares ${numLabels} labels; a relevance cross-encoder has 1 (a score) or 2 (not relevant, relevant)`,
    );
  }
  const modelMax = Number(tokenizer.model_max_length);
  maxLength = Number.isFinite(modelMax) && modelMax > 0 ? Math.min(msg.maxLength, modelMax) : msg.maxLength;
}

/**
 * Tokenises the pairs and builds padded int64 tensors. A pair longer than `maxLength`
 * keeps its first `maxLength - 1` tokens and its final special token (the closing
 * [SEP] / </s>), so the query stays whole and the document loses its end, as the
 * Python tokenizers' "longest_first" does for a short query.
 */
function encode(queries: string[], documents: string[]): Record<string, Tensor> {
  const tok = tokenizer!;
  const enc = tok(queries, { text_pair: documents, padding: false, truncation: false, return_tensor: false }) as unknown as Record<
    string,
    number[][]
  >;
  const keys = Object.keys(enc);
  const rows = enc.input_ids!.length;
  let width = 0;
  for (let r = 0; r < rows; r++) {
    for (const key of keys) {
      const seq = enc[key]![r]!;
      if (seq.length > maxLength) {
        const last = seq[seq.length - 1]!;
        seq.length = maxLength;
        seq[maxLength - 1] = last;
      }
    }
    width = Math.max(width, enc.input_ids![r]!.length);
  }
  const padId = BigInt(tok.pad_token_id ?? 0);
  const out: Record<string, Tensor> = {};
  for (const key of keys) {
    const data = new BigInt64Array(rows * width);
    const pad = key === "input_ids" ? padId : 0n;
    for (let r = 0; r < rows; r++) {
      const seq = enc[key]![r]!;
      const base = r * width;
      for (let c = 0; c < width; c++) data[base + c] = c < seq.length ? BigInt(seq[c]!) : pad;
    }
    out[key] = new Tensor("int64", data, [rows, width]);
  }
  return out;
}

/**
 * Even at the lowest priority, a thread that computes while request threads run slows them
 * (caches, memory bandwidth: bench/README.md, "Tier isolation"). After a slice during which
 * latency-sensitive requests started and this thread waited for a CPU, it pauses long enough
 * that it computes only `contendedDuty` of the time. The premium tier's own work (retrieval of
 * other rerank searches) never makes it pause, nor does an otherwise idle machine.
 */
function yieldIfContended(wallMs: number, cpuMs: number, othersActive: boolean): void {
  if (!othersActive || wallMs <= 0 || cpuMs <= 0) return;
  if (!((wallMs - cpuMs) / wallMs > 0.1)) return;
  Atomics.wait(pauseCell, 0, 0, Math.min(1000, cpuMs * (1 / contendedDuty - 1)));
}

/**
 * Scores a batch in slices of pairs of similar length: each slice is padded only to its own
 * longest pair, so one long memory does not make every other pair pay for its padding.
 */
async function score(msg: ScoreMessage): Promise<void> {
  const started = performance.now();
  const rows = msg.queries.length;
  const order = Array.from({ length: rows }, (_, i) => i);
  const length = (i: number) => msg.queries[i]!.length + msg.documents[i]!.length; // characters: a cheap proxy for tokens
  order.sort((a, b) => length(a) - length(b));
  const scores = new Float64Array(rows);
  for (let from = 0; from < rows; from += sliceRows) {
    const slice = order.slice(from, from + sliceRows);
    const inputs = encode(
      slice.map((i) => msg.queries[i]!),
      slice.map((i) => msg.documents[i]!),
    );
    // capped (a machine-wide slot) only while foreground requests run
    foregroundStarted();
    const capped = performance.now() - foregroundSeenAt < FOREGROUND_WINDOW_MS;
    const slot = capped ? slots?.acquire() : undefined;
    foregroundStarted(); // what started while waiting for the slot is not this slice's doing
    const wallStart = performance.now();
    const cpuStart = cpuClock?.() ?? 0;
    let logits: Tensor;
    try {
      ({ logits } = (await model!(inputs)) as { logits: Tensor });
    } finally {
      if (slot !== undefined) slots!.release(slot);
    }
    const othersActive = foregroundStarted();
    if (cpuClock) yieldIfContended(performance.now() - wallStart, cpuClock() - cpuStart, othersActive);
    const data = logits.data as Float32Array;
    for (let r = 0; r < slice.length; r++) {
      // 1 label: the logit is the score. 2 labels: relevant minus not-relevant logit.
      scores[slice[r]!] = numLabels === 1 ? data[r]! : data[r * 2 + 1]! - data[r * 2]!;
    }
    for (const t of Object.values(inputs)) t.dispose?.();
    logits.dispose?.();
  }
  post({ type: "scores", id: msg.id, scores, inferenceMs: performance.now() - started });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    init(msg).then(
      () => post({ type: "ready", numLabels, maxLength, scheduling, cpuSlots: slots?.size ?? null }),
      (err: unknown) => post({ type: "init-error", message: err instanceof Error ? err.message : String(err) }),
    );
  } else if (msg.type === "score") {
    if (!model || !tokenizer) {
      post({ type: "score-error", id: msg.id, message: "model is not loaded" });
      return;
    }
    score(msg).catch((err: unknown) =>
      post({ type: "score-error", id: msg.id, message: err instanceof Error ? err.message : String(err) }),
    );
  }
};
