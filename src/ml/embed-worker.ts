/**
 * The embedding worker: runs the transformers.js feature-extraction pipeline (onnxruntime-node,
 * CPU) on its own thread so tokenisation, inference and pooling never block the HTTP event loop.
 *
 * onnxruntime-node is an N-API addon; it loads and runs inside a Bun `Worker` (checked with
 * Bun 1.4.5 + onnxruntime-node 1.30), so no child process is needed. transformers.js sees
 * `process.release.name === "node"` in the worker and picks the node backend; the worker's
 * global object is not a DedicatedWorkerGlobalScope for its web-worker sniffing, but we set
 * `allowLocalModels` explicitly anyway.
 *
 * A quantized (q8) model quantizes activations dynamically with ONE scale per tensor, so a
 * text's vector depends slightly on the other texts in its batch (measured: cosine ≈ 0.99 to
 * its single-text vector, max abs diff ≈ 2e-2). With `batchInvariant` each text runs alone
 * (exactly reproducible, slower); fp32 models are batch-invariant either way.
 *
 * Protocol (one batch in flight at a time is all the main side sends; batches are still
 * serialised here in case that changes):
 *   main → worker: InitMessage, then EmbedRequest*
 *   worker → main: ReadyMessage | FailedMessage, then EmbedResult | EmbedFailure per request
 */
import { env, pipeline, type FeatureExtractionPipeline } from "@huggingface/transformers";
import type { ModelDtype, Pooling } from "./model-folder.ts";
import { lowerThreadPriority, useIdleScheduling } from "./thread-priority.ts";

declare var self: Worker;

export interface InitMessage {
  type: "init";
  localModelPath: string;
  modelId: string;
  dtype: ModelDtype;
  pooling: Pooling;
  normalize: boolean;
  /** onnxruntime intra-op threads. */
  threads: number;
  /** Run every text of a batch on its own (see OnnxEmbedderOptions.batchInvariant). */
  batchInvariant: boolean;
  /** Lower this worker's inference thread (OnnxEmbedderOptions.background). */
  background?: { idleScheduling: boolean; nice: number };
}
export interface EmbedRequest {
  type: "embed";
  id: number;
  texts: string[];
}
export type ToWorker = InitMessage | EmbedRequest;

export interface ReadyMessage {
  type: "ready";
}
export interface FailedMessage {
  type: "failed";
  message: string;
}
export interface EmbedResult {
  type: "result";
  id: number;
  /** Row-major [texts.length × dims]. */
  data: Float32Array;
  dims: number;
}
export interface EmbedFailure {
  type: "error";
  id: number;
  message: string;
}
export type FromWorker = ReadyMessage | FailedMessage | EmbedResult | EmbedFailure;

let extractor: FeatureExtractionPipeline | null = null;
let config: InitMessage | null = null;
let chain: Promise<void> = Promise.resolve();

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  self.postMessage(msg, transfer);
}

async function init(msg: InitMessage): Promise<void> {
  try {
    // intra-op threads 1: inference runs on this thread, so its priority is the inference's
    if (msg.background && !(msg.background.idleScheduling && useIdleScheduling())) lowerThreadPriority(msg.background.nice);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    env.localModelPath = msg.localModelPath;
    extractor = await pipeline("feature-extraction", msg.modelId, {
      dtype: msg.dtype,
      device: "cpu",
      local_files_only: true,
      session_options: {
        intraOpNumThreads: msg.threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      },
    });
    config = msg;
    send({ type: "ready" });
  } catch (e) {
    send({ type: "failed", message: e instanceof Error ? e.message : String(e) });
  }
}

async function embed(req: EmbedRequest): Promise<void> {
  try {
    if (!extractor || !config) throw new Error("embed worker is not initialised");
    const options = { pooling: config.pooling, normalize: config.normalize };
    const groups = config.batchInvariant ? req.texts.map((t) => [t]) : [req.texts];
    let data = new Float32Array(0);
    let dims = 0;
    let row = 0;
    for (const texts of groups) {
      const out = await extractor(texts, options);
      dims = out.dims[out.dims.length - 1] ?? 0;
      if (data.length === 0) data = new Float32Array(req.texts.length * dims);
      // Copy into one buffer that holds exactly this batch and can be transferred.
      data.set(out.data as Float32Array, row * dims);
      row += texts.length;
      out.dispose();
    }
    send({ type: "result", id: req.id, data, dims }, [data.buffer]);
  } catch (e) {
    send({ type: "error", id: req.id, message: e instanceof Error ? e.message : String(e) });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") chain = chain.then(() => init(msg));
  else if (msg.type === "embed") chain = chain.then(() => embed(msg));
};
