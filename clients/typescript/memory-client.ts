/**
 * The TypeScript client of the Memory API (the Notion importer and the Poe bot use it). It knows
 * only the public v1 contract (paths, JSON shapes, problem+json errors), like any outside client.
 */

export interface MemoryInput {
  id?: string;
  content: string;
  metadata?: Record<string, unknown>;
}

export interface StoredMemory {
  id: string;
  content: string;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface SearchHit {
  id: string;
  content: string;
  metadata: Record<string, unknown>;
  score: number;
  created_at: string;
}

export interface SearchRequest {
  query: string;
  collection_id: string;
  top_k?: number;
  search_type?: "semantic" | "keyword" | "hybrid";
  rerank?: boolean;
  filters?: Record<string, unknown>;
}

export interface SearchAnswer {
  results: SearchHit[];
  search_type: string;
  top_k: number;
  cached: boolean;
  reranked: boolean;
  rerank_reason?: string;
  took_ms: number;
}

/** Which memories a bulk delete takes: exactly one of ids, filter (with a condition) and all. */
export type BulkDeleteRequest = ({ ids: string[] } | { filter: Record<string, unknown> } | { all: true }) & {
  /** At most this many a call (1..1000, default 1000). */
  limit?: number;
  dry_run?: boolean;
};

export interface BulkDeleteAnswer {
  dry_run: boolean;
  matched: number;
  deleted: number;
  ids: string[];
  has_more: boolean;
}

export interface CollectionInfo {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  /** Cosine similarity from which a new memory is a near-duplicate (dedupe); 0.95 unless set. */
  dedupe_threshold: number;
}

/** Near-duplicates among the memories without an id (POST …/memories `dedupe`); default off. */
export interface DedupeOptions {
  dedupe?: "off" | "skip" | "merge";
  /** Overrides the collection's dedupe_threshold for this call (0.5..1). */
  dedupe_threshold?: number;
}

/** What became of one memory of an addMemories call with dedupe skip or merge. */
export interface DedupeOutcome {
  index: number;
  action: "created" | "skipped" | "merged";
  matched_id?: string;
  similarity?: number;
}

export type WebhookEventType = "memory.created" | "memory.replaced" | "memory.patched" | "memory.deleted" | "memory.expired";

/** A collection's webhook and its delivery state (GET …/webhooks/:id); never its secret. */
export interface Webhook {
  id: string;
  collection_id: string;
  url: string;
  /** The event types it receives; empty: every type. */
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  /** Why delivery gave up and disabled it; null otherwise. */
  disabled_reason: string | null;
  /** The collection's change-log position delivered so far. */
  delivered_seq: number;
  /** Failed attempts in a row at the pending delivery. */
  failures: number;
  /** When the next retry is due, while backing off. */
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface NewWebhook {
  url: string;
  /** Absent or empty: every type. */
  events?: WebhookEventType[];
  description?: string | null;
}

export interface WebhookPatch {
  url?: string;
  events?: WebhookEventType[];
  /** null clears it. */
  description?: string | null;
  /** false pauses deliveries; true resumes from where it stopped and clears the failures. */
  enabled?: boolean;
  /** true: a new signing secret, in this answer only. */
  rotate_secret?: boolean;
}

/** How the receiver answered POST …/webhooks/:id/test (200 whatever it did). */
export interface WebhookTestResult {
  delivery_id: string;
  /** The receiver answered 2xx. */
  delivered: boolean;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** One attempt of a webhook's delivery log. */
export interface WebhookDelivery {
  /** The Memory-Delivery-Id header of that attempt. */
  id: string;
  kind: "events" | "test";
  at: string;
  first_seq: number | null;
  last_seq: number | null;
  event_count: number;
  attempt: number;
  status_code: number | null;
  succeeded: boolean;
  duration_ms: number;
  error: string | null;
}

/** A non-2xx answer (its problem+json fields), or no answer at all (status 0). */
export class MemoryApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Seconds, from Retry-After, when the API sent one. */
    readonly retryAfter: number | undefined,
  ) {
    super(status === 0 ? `Memory API unreachable: ${detail}` : `Memory API answered ${status} ${code}: ${detail}`);
  }
}

export interface MemoryClientOptions {
  baseUrl: string;
  token: string;
  /** Per request; the request is aborted after it (status 0, code "timeout"). */
  timeoutMs?: number;
  /**
   * How many times a 429 or 503 is retried after its Retry-After (importers want this; an
   * interactive bot does not).
   */
  retries?: number;
  /** Longest wait honoured between retries. */
  maxRetryDelayMs?: number;
  fetch?: typeof fetch;
  onRetry?: (error: MemoryApiError, waitMs: number) => void;
}

export class MemoryClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: MemoryClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.doFetch = options.fetch ?? fetch;
  }

  /**
   * `retryStatuses` narrows which answers are retried for this call (429 and 503 by default): an
   * importer that splits a batch the API could not finish in time retries only 429 here.
   * `dedupe` skip or merge: a near-duplicate of a stored memory (or of an earlier one of the
   * batch) is not written; its id is the matched memory's, and `dedupe` says what became of each.
   */
  addMemories(
    collectionId: string,
    memories: MemoryInput[],
    call: { retryStatuses?: readonly number[] } & DedupeOptions = {},
  ): Promise<{ ids: string[]; dedupe?: DedupeOutcome[] }> {
    const { retryStatuses, ...dedupe } = call;
    return this.request("POST", `/v1/collections/${encodeURIComponent(collectionId)}/memories`, { memories, ...dedupe }, retryStatuses);
  }

  listMemories(collectionId: string, page: { limit?: number; cursor?: string } = {}): Promise<{ memories: StoredMemory[]; next_cursor: string | null }> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set("limit", String(page.limit));
    if (page.cursor) query.set("cursor", page.cursor);
    return this.request("GET", `/v1/collections/${encodeURIComponent(collectionId)}/memories?${query}`);
  }

  /** Every memory of the collection, page by page. */
  async *allMemories(collectionId: string, pageSize = 1000): AsyncGenerator<StoredMemory> {
    let cursor: string | undefined;
    do {
      const page = await this.listMemories(collectionId, { limit: pageSize, cursor });
      yield* page.memories;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** True when deleted, false when it was already gone. */
  async deleteMemory(collectionId: string, memoryId: string): Promise<boolean> {
    try {
      await this.request("DELETE", `/v1/collections/${encodeURIComponent(collectionId)}/memories/${encodeURIComponent(memoryId)}`);
      return true;
    } catch (error) {
      if (error instanceof MemoryApiError && error.status === 404 && error.code === "not_found") return false;
      throw error;
    }
  }

  /** One call of POST …/memories/delete: at most `limit` memories; call again while `has_more`. */
  deleteMemories(collectionId: string, body: BulkDeleteRequest): Promise<BulkDeleteAnswer> {
    return this.request("POST", `/v1/collections/${encodeURIComponent(collectionId)}/memories/delete`, body);
  }

  /** Every memory the selector takes, a call at a time until none is left; the total deleted. */
  async deleteAllMemories(collectionId: string, body: BulkDeleteRequest): Promise<number> {
    let deleted = 0;
    for (;;) {
      const answer = await this.deleteMemories(collectionId, { ...body, dry_run: false });
      deleted += answer.deleted;
      if (!answer.has_more) return deleted;
    }
  }

  /** Renames a collection, changes its description (null clears it) and/or its dedupe threshold (null: the default). */
  updateCollection(collectionId: string, patch: { name?: string; description?: string | null; dedupe_threshold?: number | null }): Promise<CollectionInfo> {
    return this.request("PATCH", `/v1/collections/${encodeURIComponent(collectionId)}`, patch);
  }

  /**
   * Every memory of GET …/export (optionally filtered), streamed. A stream that breaks off (the
   * connection, or an `{"error"}` line) is resumed from its last checkpoint, up to `retries`
   * times in a row (default 3); memories already yielded are not yielded again.
   */
  async *exportMemories(collectionId: string, opts: { filter?: Record<string, unknown>; cursor?: string; retries?: number } = {}): AsyncGenerator<StoredMemory> {
    let cursor = opts.cursor;
    let sinceCheckpoint = new Set<string>();
    for (let failures = 0; ; ) {
      const query = new URLSearchParams();
      if (opts.filter) query.set("filter", JSON.stringify(opts.filter));
      if (cursor) query.set("cursor", cursor);
      const response = await this.raw("GET", `/v1/collections/${encodeURIComponent(collectionId)}/export?${query}`);
      const seen = sinceCheckpoint;
      sinceCheckpoint = new Set();
      let broken: MemoryApiError;
      try {
        for await (const line of ndjsonLines(response.body!)) {
          if ("content" in line) {
            const memory = line as unknown as StoredMemory;
            if (seen.has(memory.id)) continue; // sent again after a resume
            sinceCheckpoint.add(memory.id);
            yield memory;
          } else if ("next_cursor" in line) {
            if (line.next_cursor === null) return;
            cursor = line.next_cursor as string;
            sinceCheckpoint = new Set();
            failures = 0;
          } else if ("error" in line) {
            const problem = line.error as { status: number; code: string; detail: string; retry_after?: number };
            throw new MemoryApiError(problem.status, problem.code, problem.detail, problem.retry_after);
          }
        }
        broken = new MemoryApiError(0, "incomplete", "the export ended without its final checkpoint", undefined);
      } catch (error) {
        broken = error instanceof MemoryApiError ? error : new MemoryApiError(0, "unreachable", (error as Error).message, undefined);
      }
      for (const id of seen) sinceCheckpoint.add(id);
      if (++failures > (opts.retries ?? 3)) throw broken;
      this.options.onRetry?.(broken, (broken.retryAfter ?? 1) * 1000);
      await Bun.sleep((broken.retryAfter ?? 0) * 1000);
    }
  }

  /**
   * POST …/import of `memories` (objects as addMemories takes them, or as exportMemories yields
   * them), split into requests of at most `maxBodyBytes` (default 8 MiB, under the server's
   * MAX_BODY_BYTES). Answers the totals and the bad lines, numbered from 1 across all of
   * `memories`; a request that fails mid-way throws after what it wrote.
   */
  async importMemories(
    collectionId: string,
    memories: Iterable<MemoryInput | StoredMemory> | AsyncIterable<MemoryInput | StoredMemory>,
    opts: { maxBodyBytes?: number; onProgress?: (progress: { imported: number; failed: number }) => void } = {},
  ): Promise<{ imported: number; failed: number; errors: { line: number; field?: string; detail: string }[] }> {
    const limit = opts.maxBodyBytes ?? 8 * 1024 * 1024;
    const total = { imported: 0, failed: 0, errors: [] as { line: number; field?: string; detail: string }[] };
    let lines: string[] = [];
    let bytes = 0;
    let firstLine = 1;
    const flush = async () => {
      if (lines.length === 0) return;
      const body = lines.join("");
      const response = await this.raw("POST", `/v1/collections/${encodeURIComponent(collectionId)}/import`, body, "application/x-ndjson");
      let done = false;
      for await (const line of ndjsonLines(response.body!)) {
        if ("error" in line) {
          const problem = line.error as { status: number; code: string; detail: string; retry_after?: number };
          throw new MemoryApiError(problem.status, problem.code, `${problem.detail} (line ${firstLine - 1 + (line.resume_at_line as number)} on)`, problem.retry_after);
        }
        if (line.done === true) {
          done = true;
          total.imported += line.imported as number;
          total.failed += line.failed as number;
          for (const e of line.errors as { line: number; field?: string; detail: string }[]) {
            const at = firstLine - 1 + e.line;
            total.errors.push({ ...e, line: at, detail: e.detail.replace(/^line \d+:/, `line ${at}:`) });
          }
        } else {
          opts.onProgress?.({ imported: total.imported + (line.imported as number), failed: total.failed + (line.failed as number) });
        }
      }
      if (!done) throw new MemoryApiError(0, "incomplete", "the import's answer ended without its summary", undefined);
      firstLine += lines.length;
      lines = [];
      bytes = 0;
    };
    for await (const memory of memories as AsyncIterable<MemoryInput | StoredMemory>) {
      const line = `${JSON.stringify(memory)}\n`;
      const size = Buffer.byteLength(line);
      if (bytes + size > limit) await flush();
      lines.push(line);
      bytes += size;
    }
    await flush();
    return total;
  }

  getCollection(collectionId: string): Promise<{ id: string; name: string }> {
    return this.request("GET", `/v1/collections/${encodeURIComponent(collectionId)}`);
  }

  search(body: SearchRequest): Promise<SearchAnswer> {
    return this.request("POST", "/v1/search", body);
  }

  /**
   * Registers a webhook: the collection's changes from now on are POSTed to `url`, signed in the
   * Memory-Signature header with the answer's `secret`, which is shown only here. Retried after
   * a 429 only: a repeat after a 503 could register it twice.
   */
  createWebhook(collectionId: string, webhook: NewWebhook): Promise<Webhook & { secret: string }> {
    return this.request("POST", this.webhooksPath(collectionId), webhook, [429]);
  }

  listWebhooks(collectionId: string): Promise<{ webhooks: Webhook[] }> {
    return this.request("GET", this.webhooksPath(collectionId));
  }

  getWebhook(collectionId: string, webhookId: string): Promise<Webhook> {
    return this.request("GET", this.webhooksPath(collectionId, webhookId));
  }

  /** Changes each given field; with `rotate_secret: true` the answer has the new `secret` (and a 503 is not retried). */
  updateWebhook(collectionId: string, webhookId: string, patch: WebhookPatch): Promise<Webhook & { secret?: string }> {
    return this.request("PATCH", this.webhooksPath(collectionId, webhookId), patch, patch.rotate_secret ? [429] : undefined);
  }

  /** True when deleted (with its delivery log), false when it was already gone. */
  async deleteWebhook(collectionId: string, webhookId: string): Promise<boolean> {
    try {
      await this.request("DELETE", this.webhooksPath(collectionId, webhookId));
      return true;
    } catch (error) {
      if (error instanceof MemoryApiError && error.status === 404 && error.code === "not_found") return false;
      throw error;
    }
  }

  /** Sends a signed test delivery now (even to a disabled webhook) and says how the receiver answered. */
  testWebhook(collectionId: string, webhookId: string): Promise<WebhookTestResult> {
    return this.request("POST", `${this.webhooksPath(collectionId, webhookId)}/test`);
  }

  /** One page of the webhook's delivery log, newest first; pass `next_cursor` on for older ones. */
  listWebhookDeliveries(
    collectionId: string,
    webhookId: string,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<{ deliveries: WebhookDelivery[]; next_cursor: string | null }> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set("limit", String(page.limit));
    if (page.cursor) query.set("cursor", page.cursor);
    return this.request("GET", `${this.webhooksPath(collectionId, webhookId)}/deliveries?${query}`);
  }

  /** Every attempt of the webhook's delivery log, newest first, page by page. */
  async *allWebhookDeliveries(collectionId: string, webhookId: string, pageSize = 100): AsyncGenerator<WebhookDelivery> {
    let cursor: string | undefined;
    do {
      const page = await this.listWebhookDeliveries(collectionId, webhookId, { limit: pageSize, cursor });
      yield* page.deliveries;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  private webhooksPath(collectionId: string, webhookId?: string): string {
    const base = `/v1/collections/${encodeURIComponent(collectionId)}/webhooks`;
    return webhookId === undefined ? base : `${base}/${encodeURIComponent(webhookId)}`;
  }

  /** A streamed answer: its Response once the status is 2xx, else the problem as a MemoryApiError. */
  private async raw(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    if (contentType) headers["content-type"] = contentType;
    let response: Response;
    try {
      response = await this.doFetch(`${this.base}${path}`, { method, headers, body });
    } catch (error) {
      throw new MemoryApiError(0, "unreachable", (error as Error).message, undefined);
    }
    if (!response.ok) {
      const text = await response.text();
      let problem: { code?: string; detail?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        // not problem+json
      }
      const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
      throw new MemoryApiError(response.status, problem.code ?? "http_error", problem.detail ?? text.slice(0, 300), Number.isFinite(retryAfter) ? retryAfter : undefined);
    }
    return response;
  }

  private async request<T>(method: string, path: string, body?: unknown, retryStatuses: readonly number[] = [429, 503]): Promise<T> {
    const retries = this.options.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, body);
      } catch (error) {
        const retryable = error instanceof MemoryApiError && retryStatuses.includes(error.status);
        if (!retryable || attempt >= retries) throw error;
        const waitMs = Math.min((error.retryAfter ?? 2 ** attempt) * 1000, this.options.maxRetryDelayMs ?? 60_000);
        this.options.onRetry?.(error, waitMs);
        await Bun.sleep(waitMs);
      }
    }
  }

  private async once<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.doFetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const name = (error as Error).name;
      const timedOut = name === "TimeoutError" || name === "AbortError";
      throw new MemoryApiError(0, timedOut ? "timeout" : "unreachable", timedOut ? `no answer within ${this.options.timeoutMs ?? 60_000} ms` : (error as Error).message, undefined);
    }
    const text = await response.text();
    if (!response.ok) {
      let code = "http_error";
      let detail = text.slice(0, 300);
      try {
        const problem = JSON.parse(text) as { code?: string; detail?: string };
        code = problem.code ?? code;
        detail = problem.detail ?? detail;
      } catch {
        // not problem+json (a proxy's page, say): keep the raw text
      }
      const retryAfterHeader = response.headers.get("retry-after");
      const retryAfter = retryAfterHeader !== null && /^\d+(\.\d+)?$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined;
      throw new MemoryApiError(response.status, code, detail, retryAfter);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** The JSON objects of an NDJSON body, a line at a time. */
async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as Record<string, unknown>;
}
