import { ConsistencyLevelEnum, LoadState, MilvusClient } from "@zilliz/milvus2-sdk-node";
import type { Logger } from "../../log.ts";
import { DependencyUnavailableError } from "../../domain/errors.ts";
import { checkStatus, CollectionNotLoadedError, type MilvusStatus, translateError } from "./errors.ts";

export interface ConnectionOptions {
  address: string;
  collection: string;
  /** Bound on every call. */
  timeoutMs: number;
  /** Bound on loading the collection. */
  loadTimeoutMs: number;
  /** Query-node replicas the collection is loaded with (MILVUS_REPLICAS). */
  replicas: number;
  log: Logger;
}

export interface CallOptions<T> {
  timeoutMs?: number;
  /**
   * Request-path calls (searches): once a call has timed out, such calls are refused at once with
   * a 503 while one of them at a time probes whether Milvus answers again, instead of each
   * request waiting out the timeout (a restarted Milvus accepts calls long before it serves).
   */
  failFast?: boolean;
  /** Where the answer keeps its status; checked (and translated) inside the call. */
  status?: (answer: T) => MilvusStatus | undefined;
}

/** The status of an answer that is itself a status (create*, load*, ...). */
export const itself = (answer: MilvusStatus): MilvusStatus => answer;
/** The status of an answer that carries one (`{ status, ... }`). */
export const nested = (answer: { status: MilvusStatus }): MilvusStatus => answer.status;

/**
 * One gRPC client (HTTP/2, multiplexed: one is enough per process) and the collection it
 * serves, with what every part of the adapter needs: bounded calls with error translation, the
 * visibility barrier, and loading.
 */
export class MilvusConnection {
  readonly client: MilvusClient;
  readonly collection: string;
  readonly timeoutMs: number;
  readonly loadTimeoutMs: number;
  readonly replicas: number;
  private readonly log: Logger;
  /** This process has loaded the collection (warm() finished). */
  warmed = false;
  private reloading: Promise<void> | undefined;
  private closed = false;
  /** A call timed out and no call has succeeded since. */
  private stalled = false;
  private probing = false;
  /** SDK calls not settled yet (the channel must outlive them: see close). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    this.collection = options.collection;
    this.timeoutMs = options.timeoutMs;
    this.loadTimeoutMs = options.loadTimeoutMs;
    this.replicas = options.replicas;
    this.log = options.log;
    this.client = new MilvusClient({
      address: options.address,
      timeout: options.timeoutMs,
      // The SDK's retry interceptor retries DEADLINE_EXCEEDED with a fresh deadline (a call
      // could take several timeouts) and would replay inserts; callers retry (the outbox).
      maxRetries: 0,
      logLevel: "error", // its logs are not JSON lines; ours are
    });
    // The SDK starts connecting in its constructor and nobody awaits that promise: unhandled,
    // an unreachable server would be an unhandled rejection, which ends the process.
    this.client.connectPromise.catch(() => {});
  }

  /** Waits for the SDK's handshake (fails fast when nothing listens); returns the server version. */
  async connect(): Promise<string> {
    await this.call("connect", () => this.client.connectPromise);
    const answer = await this.call("getVersion", () => this.client.getVersion() as Promise<{ status: MilvusStatus; version: string }>, {
      status: nested,
    });
    return answer.version;
  }

  /**
   * Runs one call bounded by `timeoutMs` whatever the SDK does (a late answer is ignored),
   * checks its status, and translates failures: connection-level ones (and a released
   * collection) become DependencyUnavailableError("milvus").
   */
  async call<T>(what: string, run: (timeout: number) => Promise<T>, options: CallOptions<T> = {}): Promise<T> {
    if (this.closed) throw new DependencyUnavailableError("milvus", 2, new Error("the milvus connection is closed"));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let probe = false;
    if (options.failFast && this.stalled) {
      if (this.probing) throw new DependencyUnavailableError("milvus", 2, new Error(`milvus is not answering (a ${what} timed out); retry shortly`));
      this.probing = probe = true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stalled = true;
        reject(new DependencyUnavailableError("milvus", 2, new Error(`milvus ${what} took longer than ${timeoutMs} ms`)));
      }, timeoutMs);
    });
    try {
      const sdkCall = run(timeoutMs);
      this.inFlight.add(sdkCall);
      void sdkCall.then(
        () => this.inFlight.delete(sdkCall),
        () => this.inFlight.delete(sdkCall),
      );
      const answer = await Promise.race([sdkCall, deadline]);
      this.stalled = false;
      if (options.status !== undefined) checkStatus(options.status(answer), what);
      return answer;
    } catch (error) {
      const translated = translateError(error, what);
      // Loaded once, released since (a Milvus restart): reload in the background, answer 503 now.
      if (translated instanceof CollectionNotLoadedError && this.warmed) this.reloadInBackground();
      throw translated;
    } finally {
      clearTimeout(timer);
      if (probe) this.probing = false;
    }
  }

  /** Rows matching `expr` (count(*)) at the given consistency level. */
  async count(expr: string, consistency: ConsistencyLevelEnum): Promise<number> {
    const answer = await this.call(
      "count",
      (timeout) =>
        this.client.query({
          collection_name: this.collection,
          filter: expr,
          output_fields: ["count(*)"],
          consistency_level: consistency,
          timeout,
        }),
      { status: nested },
    );
    return Number(answer.data[0]?.["count(*)"] ?? 0);
  }

  /**
   * Counts with Strong consistency. Milvus answers only once the query node has consumed every
   * write acknowledged before the call, so afterwards every search sees those writes, at any
   * consistency level (a search reads as of its own start). Milvus 2.3 gets there on its next
   * time tick: 150–200 ms here.
   */
  barrier(expr: string): Promise<number> {
    return this.count(expr, ConsistencyLevelEnum.Strong);
  }

  /** The collection's load state as Milvus reports it. */
  async loadState(timeoutMs = this.timeoutMs): Promise<LoadState> {
    const answer = await this.call(
      "getLoadState",
      (timeout) => this.client.getLoadState({ collection_name: this.collection, timeout }),
      { timeoutMs, status: nested },
    );
    return answer.state;
  }

  /**
   * Loads the collection into the query node and waits until it serves (idempotent: a loaded
   * collection answers at once). Searches never load: this runs in warm(), and again in the
   * background when a call finds the collection released.
   */
  async load(timeoutMs: number): Promise<void> {
    const started = Date.now();
    await this.call(
      "loadCollection",
      (timeout) => this.client.loadCollection({ collection_name: this.collection, replica_number: this.replicas, timeout }),
      { status: itself },
    ).catch((error: unknown) => {
      throw explainedLoadFailure(error, this.collection, this.replicas);
    });
    for (;;) {
      const state = await this.loadState();
      if (state === LoadState.LoadStateLoaded) return;
      if (state === LoadState.LoadStateNotExist) throw new Error(`milvus collection "${this.collection}" does not exist`);
      if (Date.now() - started > timeoutMs) {
        throw new DependencyUnavailableError(
          "milvus",
          5,
          new Error(`milvus collection "${this.collection}" not loaded after ${timeoutMs} ms (${state})`),
        );
      }
      await Bun.sleep(100);
    }
  }

  /** Starts one background reload (single-flight); calls fail with 503 meanwhile. */
  reloadInBackground(): void {
    if (this.reloading !== undefined || this.closed) return;
    this.log.warn("milvus collection not loaded; reloading", { collection: this.collection });
    this.reloading = this.load(this.loadTimeoutMs)
      .then(() => this.log.info("milvus collection reloaded", { collection: this.collection }))
      .catch((error: unknown) => this.log.error("milvus reload failed", { collection: this.collection, error }))
      .finally(() => {
        this.reloading = undefined;
      });
  }

  /**
   * Closes the channel once no SDK call is in flight. The SDK's interceptor re-sends a call that
   * failed with DEADLINE_EXCEEDED or UNAVAILABLE (whatever maxRetries says) and throws, uncaught,
   * when the channel is shut down by then: a connection given up during start-up (Milvus still
   * coming up) crashed the process that way. Calls stop being accepted at once.
   */
  close(): Promise<void> {
    if (this.closed) return this.closing ?? Promise.resolve();
    this.closed = true; // a reload under way fails on its next call
    const settled = Promise.allSettled([...this.inFlight]);
    // a call ends within its deadline and is re-sent once at most; a load (longer) still in flight
    // is not waited for beyond that. Unref'd: an exiting process does not wait for this.
    const bound = new Promise<void>((resolve) => setTimeout(resolve, 2 * this.timeoutMs + 1000).unref());
    this.closing = Promise.race([settled, bound]).then(() => {
      try {
        this.client.closeConnection();
      } catch {
        // already closed
      }
    });
    return this.closing;
  }
}

/** Milvus' own words for a replica count it cannot serve, with what the operator can do. */
function explainedLoadFailure(error: unknown, collection: string, replicas: number): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const loadedWith = /can't change the replica number.*expected=(\d+)/.exec(message);
  if (loadedWith !== null) {
    return new Error(
      `milvus collection "${collection}" is loaded with ${loadedWith[1]} replica(s) but MILVUS_REPLICAS=${replicas}: ` +
        `set MILVUS_REPLICAS=${loadedWith[1]}, or release the collection (every worker stopped) so it loads again with ${replicas}`,
      { cause: error },
    );
  }
  if (/nodes not enough/.test(message)) {
    return new Error(
      `MILVUS_REPLICAS=${replicas} needs at least ${replicas} Milvus query nodes, and Milvus has fewer: add query nodes or lower MILVUS_REPLICAS`,
      { cause: error },
    );
  }
  return error;
}
