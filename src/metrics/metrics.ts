/**
 * The Prometheus metrics of one app instance (one worker process): a registry of its own, never
 * prom-client's global one, so tests can build many apps in one process.
 *
 * Two kinds of instruments:
 *  - observed on the hot path (request durations, dependency calls, 429s): label children are
 *    bound once and cached, so a request costs a few map lookups and one observe();
 *  - read at scrape time (`collect`) from live objects the runtime registers with
 *    `setSources` (search pipeline counters, pool, queues, outbox): no work per request at all.
 *
 * In a cluster every worker serves its own /metrics and Prometheus scrapes each one (see the
 * README's Operations section); `aggregator` settings only matter to whoever merges them with
 * prom-client's AggregatorRegistry (values shared by all workers, like the outbox backlog,
 * must not be summed).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { SearchStats } from "../search/pipeline";
import pkg from "../../package.json";

export const METRIC_PREFIX = "memory_api_";

/** The search pipeline's running totals (`pipeline.stats`). */
export type SearchCounters = SearchStats;

/** What the embedder reports (`OnnxEmbedder.stats()`); the fields metrics read. */
export interface EmbedderFigures {
  queueDepth: number;
  inFlight: number;
  lastBatchSize: number;
  batches: number;
  textsEmbedded: number;
  queryCacheHits: number;
  queryCacheMisses: number;
}

/** What the reranker reports (`OnnxReranker.stats()`); the fields metrics read. */
export interface RerankerFigures {
  queueDepth: number;
  queuedPairs: number;
  inFlightPairs: number;
  lastBatchPairs: number;
  lastInferenceMs: number;
  batches: number;
  pairsScored: number;
  rejected: number;
  timedOut: number;
  shed: number;
  msPerPair: number;
}

export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** PostgreSQL reads of one collection so far, by where they ran and why (src/stores/postgres/replica-reads.ts). */
export interface ReadFigures {
  target: string;
  reason: string;
  count: number;
}

/** Live objects read at scrape time; each is optional (embedded mode has no pool or outbox). */
export interface MetricSources {
  search: () => SearchCounters;
  embedder: () => EmbedderFigures | null;
  embedderQueueLimit: number;
  reranker: () => RerankerFigures | null;
  rerankerQueueLimit: number;
  pgPool: () => PoolFigures;
  /** Reads that may run on a replica (list, keyword search, hydrate), by target and reason. */
  pgReads: () => ReadFigures[];
  /** Undelivered outbox rows per derived index (one query per scrape). */
  outboxBacklog: () => Promise<Record<string, number>>;
  /** Dead-lettered outbox rows per target. */
  outboxDeadLetters: () => Promise<Record<string, number>>;
  /** Requests limited per worker because Redis was unreachable. */
  rateLimitFallbacks: () => number;
  /** This worker's webhook deliveries. */
  webhooks: () => { delivered: number; failed: number; disabled: number; events: number };
}

/** Times one (dependency, operation): both children bound once. */
export interface DependencyTimer {
  observe(seconds: number): void;
  error(): void;
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type of `render()`'s text. */
  readonly contentType: string;
  setSources(sources: Partial<MetricSources>): void;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  rateLimitRejected(tier: string): void;
  dependency(dependency: string, operation: string): DependencyTimer;
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, file descriptors…); on in the server, off in tests. */
  processMetrics?: boolean;
}

export const TIERS = ["free", "starter", "pro", "enterprise"] as const;
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const sources: Partial<MetricSources> = {};
  const name = (suffix: string) => METRIC_PREFIX + suffix;

  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  new Gauge({ name: name("build_info"), help: "Always 1; the version as a label.", labelNames: ["version"], registers, aggregator: "first" })
    .labels(pkg.version)
    .set(1);

  // ---- HTTP -------------------------------------------------------------------------------
  const requestDuration = new Histogram({
    name: name("http_request_duration_seconds"),
    help: "Time from receiving a request to sending its response, by route template and status.",
    labelNames: ["method", "route", "status"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  type Child = ReturnType<typeof requestDuration.labels>;
  const children = new Map<string, Map<string, Map<number, Child>>>();
  const requestChild = (method: string, route: string, status: number): Child => {
    let byMethod = children.get(route);
    if (byMethod === undefined) children.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (child === undefined) {
      child = requestDuration.labels(METHODS.has(method) ? method : "OTHER", route, String(status));
      byStatus.set(status, child);
    }
    return child;
  };

  // ---- rate limits ------------------------------------------------------------------------
  const rejections = new Counter({
    name: name("rate_limit_rejections_total"),
    help: "Requests answered 429 because the user's per-minute budget was spent, by tier.",
    labelNames: ["tier"],
    registers,
  });
  const rejectionChildren = new Map(TIERS.map((tier) => [tier as string, rejections.labels(tier)]));
  for (const child of rejectionChildren.values()) child.inc(0); // every tier's series exists from the start
  counterFrom(name("rate_limit_fallbacks_total"), "Rate-limit decisions taken per worker because Redis was unreachable.", () =>
    sources.rateLimitFallbacks?.(),
  );

  // ---- search pipeline --------------------------------------------------------------------
  const search = () => sources.search?.();
  counterFrom(name("search_cache_hits_total"), "Searches answered from the search cache.", () => search()?.hits);
  counterFrom(name("search_cache_misses_total"), "Searches not in the cache (computed, or joined to an identical one in flight).", () => search()?.misses);
  counterFrom(name("search_shared_misses_total"), "Cache misses that joined an identical computation already in flight (single-flight).", () => search()?.sharedMisses);
  counterFrom(name("search_cache_errors_total"), "Search-cache calls that failed (the search went on uncached).", () => search()?.cacheErrors);
  counterFrom(name("search_reranked_total"), "Premium searches reranked (RERANKER_KIND).", () => search()?.reranked);
  counterFrom(name("search_rerank_fallbacks_total"), "Rerank requests answered unreranked (reranker busy, absent or failing).", () => search()?.rerankFallbacks);
  counterFrom(
    name("search_cache_rolled_forward_total"),
    "Cache misses answered by bringing the search's cached semantic answer up to date from the change log (no embedding, no index search).",
    () => search()?.rolledForward,
  );
  counterFrom(
    name("search_cache_roll_recomputes_total"),
    "Roll-forwards given up for a full computation (too many changes, margin spent, pruned log, expiry, another model).",
    () => search()?.rollRecomputed,
  );
  new Gauge({
    name: name("search_cache_hit_ratio"),
    help: "Cache hits / (hits + misses) since this worker started (use the _total counters for a windowed rate).",
    registers,
    aggregator: "average",
    collect() {
      const s = search();
      const lookups = s ? s.hits + s.misses : 0;
      this.set(lookups === 0 ? 0 : s!.hits / lookups);
    },
  });

  // ---- dependencies -----------------------------------------------------------------------
  const dependencyDuration = new Histogram({
    name: name("dependency_duration_seconds"),
    help: "Latency of calls to a dependency (postgres, redis, milvus, neo4j, sqlite), by operation.",
    labelNames: ["dependency", "operation"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const dependencyErrors = new Counter({
    name: name("dependency_errors_total"),
    help: "Calls to a dependency that failed, by operation.",
    labelNames: ["dependency", "operation"],
    registers,
  });

  // ---- PostgreSQL pool --------------------------------------------------------------------
  const pool = () => sources.pgPool?.();
  gaugeFrom(name("pg_pool_max"), "Most connections the worker's PostgreSQL pool may open.", () => pool()?.max);
  gaugeFrom(name("pg_pool_total"), "Connections the PostgreSQL pool holds (busy + idle).", () => pool()?.total);
  gaugeFrom(name("pg_pool_idle"), "Idle connections in the PostgreSQL pool.", () => pool()?.idle);
  gaugeFrom(name("pg_pool_waiting"), "Queries waiting for a PostgreSQL connection (pool exhausted when > 0).", () => pool()?.waiting);

  new Counter({
    name: name("postgres_reads_total"),
    help: "Reads that tolerate lag (list, keyword search, hydrate) by where they ran (replica | primary) and why (caught_up, no_replica, behind, unavailable, no_head).",
    labelNames: ["target", "reason"],
    registers,
    collect() {
      const reads = sources.pgReads?.();
      if (reads === undefined) return;
      this.reset();
      for (const r of reads) this.labels(r.target, r.reason).inc(r.count);
    },
  });

  // ---- outbox -----------------------------------------------------------------------------
  /** A gauge per outbox target, read from the (shared) database at each scrape. */
  const perTarget = (metric: string, help: string, source: "outboxBacklog" | "outboxDeadLetters") =>
    new Gauge({
      name: name(metric),
      help,
      labelNames: ["target"],
      registers,
      aggregator: "max",
      async collect() {
        const read = sources[source]; // set by setSources after the registry is made
        if (!read) return;
        try {
          const rows = await read();
          this.reset();
          for (const [target, n] of Object.entries(rows)) this.labels(target).set(n);
        } catch {
          // the database is down: the last values stay; the pool and dependency metrics say why
        }
      },
    });
  perTarget("outbox_backlog", "Outbox rows not yet delivered to a derived index (the same table for every worker).", "outboxBacklog");
  perTarget(
    "outbox_dead_letters",
    "Outbox rows set aside after their own delivery kept failing (bun run outbox:replay queues them again).",
    "outboxDeadLetters",
  );

  // ---- embedder and reranker queues -------------------------------------------------------
  const embedder = () => sources.embedder?.() ?? undefined;
  gaugeFrom(name("embedder_queue_depth"), "Texts waiting for the embedding worker.", () => embedder()?.queueDepth);
  gaugeFrom(name("embedder_queue_limit"), "Most texts that may wait (EMBED_MAX_QUEUE); beyond it requests get 503.", () => sources.embedderQueueLimit);
  gaugeFrom(name("embedder_in_flight"), "Texts in the batch the embedding worker is running now.", () => embedder()?.inFlight);
  gaugeFrom(name("embedder_last_batch_size"), "Texts in the most recent embedding batch.", () => embedder()?.lastBatchSize);
  counterFrom(name("embedder_batches_total"), "Embedding batches run (texts_total / batches_total = mean batch size).", () => embedder()?.batches);
  counterFrom(name("embedder_texts_total"), "Texts embedded.", () => embedder()?.textsEmbedded);
  counterFrom(name("embedder_query_cache_hits_total"), "Query embeddings served from the LRU.", () => embedder()?.queryCacheHits);
  counterFrom(name("embedder_query_cache_misses_total"), "Query embeddings computed.", () => embedder()?.queryCacheMisses);

  const reranker = () => sources.reranker?.() ?? undefined;
  gaugeFrom(name("reranker_queue_depth"), "Rerank requests waiting for the premium scorer (cross-encoder requests, or the bi-encoder's texts).", () => reranker()?.queueDepth);
  gaugeFrom(name("reranker_queue_limit"), "Most rerank requests that may wait (RERANK_MAX_QUEUE).", () => sources.rerankerQueueLimit);
  gaugeFrom(name("reranker_queued_pairs"), "(query, memory) pairs of the waiting rerank requests.", () => reranker()?.queuedPairs);
  gaugeFrom(name("reranker_in_flight_pairs"), "Pairs (texts, for the bi-encoder) being scored now.", () => reranker()?.inFlightPairs);
  gaugeFrom(name("reranker_last_batch_pairs"), "Pairs in the most recent rerank batch.", () => reranker()?.lastBatchPairs);
  gaugeFrom(name("reranker_last_inference_seconds"), "Inference time of the most recent rerank batch.", () => {
    const ms = reranker()?.lastInferenceMs;
    return ms === undefined ? undefined : ms / 1000;
  });
  counterFrom(name("reranker_batches_total"), "Rerank batches run (pairs_total / batches_total = mean batch size).", () => reranker()?.batches);
  counterFrom(name("reranker_pairs_total"), "Pairs (query, candidate) scored by the premium scorer.", () => reranker()?.pairsScored);
  counterFrom(name("reranker_rejections_total"), "Rerank requests refused because the queue was full.", () => reranker()?.rejected);
  counterFrom(name("reranker_shed_total"), "Rerank requests answered unreranked at once: the work ahead would outlast RERANK_MAX_WAIT_MS.", () => reranker()?.shed);
  counterFrom(name("reranker_timeouts_total"), "Rerank requests answered unreranked after waiting RERANK_MAX_WAIT_MS.", () => reranker()?.timedOut);
  gaugeFrom(name("reranker_pair_seconds"), "Recent cost per pair (bi-encoder: per candidate it had to embed; moving average).", () => {
    const ms = reranker()?.msPerPair;
    return ms === undefined ? undefined : ms / 1000;
  });

  const webhooks = () => sources.webhooks?.();
  counterFrom(name("webhook_deliveries_total"), "Webhook deliveries the receiver answered 2xx.", () => webhooks()?.delivered);
  counterFrom(name("webhook_delivery_failures_total"), "Webhook deliveries that failed (non-2xx, timeout, refused); each is retried.", () => webhooks()?.failed);
  counterFrom(name("webhook_events_delivered_total"), "Change events delivered to webhooks.", () => webhooks()?.events);
  counterFrom(name("webhooks_disabled_total"), "Webhooks disabled after WEBHOOK_MAX_ATTEMPTS failures in a row.", () => webhooks()?.disabled);

  /** A counter mirroring a running total kept elsewhere (read at scrape time). */
  function counterFrom(metric: string, help: string, read: () => number | undefined): void {
    new Counter({
      name: metric,
      help,
      registers,
      collect() {
        const value = read();
        if (value === undefined) return;
        this.reset();
        this.inc(value);
      },
    });
  }

  function gaugeFrom(metric: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name: metric,
      help,
      registers,
      // limits and pool sizes are per worker: summing them across workers is right
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    setSources(more) {
      Object.assign(sources, more);
    },
    observeRequest(method, route, status, seconds) {
      requestChild(method, route, status).observe(seconds);
    },
    rateLimitRejected(tier) {
      (rejectionChildren.get(tier) ?? rejections.labels("other")).inc();
    },
    dependency(dependency, operation) {
      const duration = dependencyDuration.labels(dependency, operation);
      const errors = dependencyErrors.labels(dependency, operation);
      return { observe: (seconds) => duration.observe(seconds), error: () => errors.inc() };
    },
    render: () => registry.metrics(),
  };
}
