import { buildApp, type App } from "../../src/app";
import { createTokenService, type TokenService } from "../../src/auth/tokens";
import type { Tier } from "../../src/auth/claims";
import { silentLogger, type Logger } from "../../src/log";
import { openBackend, type Backend } from "./backend";
import { sharedEmbedder } from "./embedder";
import type { Reranker } from "../../src/ports/reranker";
import type { SearchCache } from "../../src/ports/search-cache";
import type { HealthCheck } from "../../src/ports/health-check";
import type { TierLimits } from "../../src/config";
import type { RateLimitPolicy } from "../../src/auth/plugin";
import type { Embedder } from "../../src/ports/embedder";
import type { MemoryStore } from "../../src/ports/memory-store";
import type { TargetPolicy } from "../../src/webhooks/target";
import type { RollForwardPolicy } from "../../src/search/pipeline";

export const TEST_SECRET = "test-secret-that-is-at-least-32-characters-long";

export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON (tests read arbitrary answers). */
  body: any;
  text: string;
}

export interface TestApp {
  app: App;
  backend: Backend;
  token(sub: string, tier?: Tier): Promise<string>;
  call(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Reply>;
  close(): Promise<void>;
}

export async function toReply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A fresh app over fresh stores (embedded, or the real services: see backend.ts) and the real model. */
export async function createTestApp(
  opts: {
    cacheTtlSeconds?: number;
    maxBodyBytes?: number;
    cache?: SearchCache;
    rateLimit?: RateLimitPolicy;
    reranker?: Reranker;
    /** Candidates a premium search rescores (default: the pipeline's, DEFAULT_RERANK_CANDIDATES). */
    rerankCandidates?: number;
    /** Default: silent. */
    log?: Logger;
    /** TTL by popularity and pre-warming, with the backend's popularity counters; default off. */
    popularity?: { hotTtlSeconds: number; hotThreshold: number; prewarmTop: number };
    accessLog?: boolean;
    /** Entity extraction at write time; default auto. */
    graphExtraction?: "auto" | "off";
    /** A request unanswered after this long is a 503 (default 30 s). */
    requestTimeoutMs?: number;
    /** How long an Idempotency-Key's answer is kept (default 24 h). */
    idempotencyRetentionSeconds?: number;
    /** Decorators around the backend's adapters, for tests that observe what the app asks of them. */
    wrap?: {
      memories?: (inner: MemoryStore) => MemoryStore;
      embedder?: (inner: Embedder) => Embedder;
      cache?: (inner: SearchCache) => SearchCache;
    };
    /** Default: createTokenService(TEST_SECRET). */
    tokens?: TokenService;
    /** Probed by /ready after the backend's own. */
    extraHealthChecks?: HealthCheck[];
    /** Quotas and write concurrency by tier (counted by the backend); default: none. */
    tierLimits?: Record<Tier, TierLimits>;
    /** Another app's backend: a second worker over the same stores (the owner closes it). */
    backend?: Backend;
    /** The embedding model (default: the shared one, EMBEDDING_MODEL_DIR or all-MiniLM-L6-v2). */
    embedder?: Embedder;
    /** The clock of memory expiry (stores, routes, cached answers); default Date.now. */
    now?: () => number;
    /** Page size of GET …/export and batch size of POST …/import; default the app's. */
    exportPageSize?: number;
    importBatchSize?: number;
    /** Cached semantic answers rolled forward after writes; default as configured by default (margin 10, 1000 changes); null = off. */
    rollForward?: RollForwardPolicy | null;
    /** Which URLs webhooks may use; default: any (tests deliver to loopback receivers). */
    webhookPolicy?: TargetPolicy;
  } = {},
): Promise<TestApp> {
  const shared = opts.embedder ?? (await sharedEmbedder());
  const backend = opts.backend ?? (await openBackend(shared, { now: opts.now }));
  const embedder = opts.wrap?.embedder?.(shared) ?? shared;
  const memories = opts.wrap?.memories?.(backend.memories) ?? backend.memories;
  const tokens = opts.tokens ?? createTokenService(TEST_SECRET);
  const app = buildApp({
    tokens,
    apiKeys: backend.apiKeys,
    collections: backend.collections,
    memories,
    history: backend.history,
    changeFeed: backend.changeFeed,
    vectors: backend.vectors,
    cache: opts.cache ?? opts.wrap?.cache?.(backend.cache) ?? backend.cache,
    graph: backend.graph,
    embedder,
    reranker: opts.reranker,
    popularity: opts.popularity ? backend.popularity : undefined,
    idempotency: backend.idempotency,
    webhooks: {
      store: backend.webhooks,
      policy: opts.webhookPolicy ?? { privateTargets: "allow", allowedHosts: null },
      timeoutMs: 2000,
    },
    healthChecks: [...backend.health, ...(opts.extraHealthChecks ?? [])],
    rateLimit: opts.rateLimit,
    tierLimits: opts.tierLimits,
    usage: backend.usage,
    log: opts.log ?? silentLogger,
    clock: opts.now,
    settings: {
      accessLog: opts.accessLog,
      graphExtraction: opts.graphExtraction,
      requestTimeoutMs: opts.requestTimeoutMs,
      idempotencyRetentionSeconds: opts.idempotencyRetentionSeconds,
      cacheTtlSeconds: opts.cacheTtlSeconds ?? 300,
      hybridCandidates: 50,
      rerankCandidates: opts.rerankCandidates,
      maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
      cacheHot: opts.popularity,
      prewarmTop: opts.popularity?.prewarmTop,
      rollForward: opts.rollForward === null ? undefined : (opts.rollForward ?? { margin: 10, maxChanges: 1000 }),
      exportPageSize: opts.exportPageSize,
      importBatchSize: opts.importBatchSize,
    },
  });
  return {
    app,
    backend,
    token: (sub, tier = "free") => tokens.sign({ sub, tier, ttlSeconds: 3600 }),
    async call(method, path, { token, body, raw, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      const h = init.headers as Record<string, string>;
      if (token) h.authorization = `Bearer ${token}`;
      if (raw !== undefined || body !== undefined) {
        h["content-type"] ??= "application/json";
        init.body = raw ?? JSON.stringify(body);
      }
      return toReply(await app.handle(new Request(`http://localhost${path}`, init)));
    },
    async close() {
      if (!opts.backend) await backend.close();
    },
  };
}

/** Creates a collection and returns its id. */
export async function newCollection(t: TestApp, token: string, name = `c-${crypto.randomUUID()}`): Promise<string> {
  const reply = await t.call("POST", "/v1/collections", { token, body: { name } });
  if (reply.status !== 201) throw new Error(`collection create failed: ${reply.status} ${reply.text}`);
  return reply.body.id;
}
