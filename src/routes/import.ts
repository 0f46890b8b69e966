/**
 * POST …/import: memories as NDJSON (one a line, as GET …/export writes them), written as
 * POST …/memories writes them (same checks, embedding, quotas, cost, change log), in batches,
 * with progress streamed back as NDJSON.
 *
 * Before the first byte, everything is checked and the problems are problem+json: the media type
 * (415), the body size (413), the collection (404), its embedding model (409), the quotas for
 * all the good lines (403) and their rate-limit cost (429, or 422 when one request can never
 * afford it). Bad lines do not stop the good ones: each is reported with its line number. Then
 * the answer streams one progress line a batch and ends with a summary line
 * `{"done": true, ...}`; a batch that fails ends it with `{"error": problem, "resume_at_line": n}`
 * instead, every batch before it being written. A batch is written atomically.
 */
import { Elysia, t } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import type { Principal } from "../auth/claims";
import { NotFoundError } from "../domain/errors";
import { assertCanEmbedInto, modelKeyOf } from "../domain/embedding-model";
import type { ExtractionMode } from "../graph/extract";
import { CostPolicy } from "../http/cost";
import { NDJSON, isNdjson, ndjsonLines } from "../http/ndjson";
import { AUTHENTICATED, WITH_BODY, describeRoute, ndjsonDocs, problems } from "../http/openapi";
import { ProblemError } from "../http/problem";
import { streamedProblem } from "../http/streamed-problem";
import type { Logger } from "../log";
import type { CollectionStore } from "../ports/collection-store";
import type { Embedder } from "../ports/embedder";
import type { MemoryStore } from "../ports/memory-store";
import { ImportLineSchema, parseImport, type ParsedImport } from "./import-lines";
import { memoryWriter, type MemoryWriteRouteDeps } from "./memory-writes";
import { ProblemSchema } from "./schemas";

export interface ImportRoutesDeps extends MemoryWriteRouteDeps {
  log: Logger;
  /** Memories written (embedded, upserted) at a time; one progress line each; default 100. */
  batchSize?: number;
}

/** Bad lines listed in the summary (all are counted). */
export const MAX_LISTED_FAILURES = 1000;

const LineFailureSchema = t.Object({
  line: t.Integer({ description: "1-based line number in the request body" }),
  field: t.Optional(t.String()),
  detail: t.String({ description: "what is wrong, naming the line and field" }),
});

const counts = {
  imported: t.Integer({ description: "memories written so far" }),
  failed: t.Integer({ description: "bad lines so far (not written)" }),
};

export const ImportProgressSchema = t.Object(
  { line: t.Integer({ description: "every line up to this one is done" }), ...counts },
  { additionalProperties: false, description: "after each batch" },
);

export const ImportSummarySchema = t.Object(
  {
    done: t.Literal(true),
    lines: t.Integer({ description: "lines in the body" }),
    skipped: t.Integer({ description: "blank lines and export checkpoints" }),
    ...counts,
    errors: t.Array(LineFailureSchema, { description: `the bad lines, in order (the first ${MAX_LISTED_FAILURES})` }),
  },
  { additionalProperties: false, description: "the last line of a complete import" },
);

export const ImportErrorSchema = t.Object(
  {
    error: t.Intersect([ProblemSchema, t.Object({ retry_after: t.Optional(t.Number()) })]),
    resume_at_line: t.Integer({ description: "this line and those after it were not written: send them again" }),
    ...counts,
  },
  { description: "a batch failed: the import stopped; the lines before resume_at_line are done" },
);

export const ImportAnswerLineSchema = t.Union([ImportProgressSchema, ImportSummarySchema, ImportErrorSchema]);

function importStream(
  parsed: ParsedImport,
  batchSize: number,
  writeBatch: (memories: ParsedImport["memories"]) => Promise<void>,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const { memories, failures } = parsed;
  const failedUpTo = (line: number) => {
    let n = 0;
    while (n < failures.length && failures[n]!.line <= line) n++;
    return n;
  };
  // The import runs to its end even if the client stops reading (a write is not undone by a
  // dropped connection); what it sends meanwhile is a line a batch.
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (value: unknown) => {
        try {
          controller.enqueue(ndjsonLines([value]));
        } catch {
          // the client went away: the import goes on
        }
      };
      const run = async () => {
        let imported = 0;
        for (let i = 0; i < memories.length; i += batchSize) {
          const batch = memories.slice(i, i + batchSize);
          try {
            await writeBatch(batch);
          } catch (error) {
            onError(error);
            const resumeAt = batch[0]!.line;
            send({ error: streamedProblem(error), resume_at_line: resumeAt, imported, failed: failedUpTo(resumeAt - 1) });
            return;
          }
          imported += batch.length;
          const line = batch[batch.length - 1]!.line;
          send({ line, imported, failed: failedUpTo(line) });
        }
        send({
          done: true,
          lines: parsed.lines,
          skipped: parsed.skipped,
          imported,
          failed: failures.length,
          errors: failures.slice(0, MAX_LISTED_FAILURES),
        });
      };
      void run()
        .catch(onError)
        .finally(() => {
          try {
            controller.close();
          } catch {
            // already cancelled by the client
          }
        });
    },
  });
}

export function importRoutes(deps: ImportRoutesDeps) {
  const cost = deps.cost ?? new CostPolicy();
  const now = deps.now ?? Date.now;
  const batchSize = deps.batchSize ?? 100;
  const embeddingModel = modelKeyOf(deps.embedder);
  const write = memoryWriter({
    memories: deps.memories,
    embedder: deps.embedder,
    bumpGeneration: deps.bumpGeneration,
    extraction: deps.graphExtraction ?? "auto",
    embeddingModel,
  });
  const writeBatch = async (principal: Principal, collectionId: string, batch: ParsedImport["memories"]) => {
    const items = batch.map(({ memory }) => memory);
    const release = cost.admitWrite(principal, items.length);
    try {
      await write(collectionId, items, principal.userId);
      cost.recordUsage(principal, { memories: items.length, bytes: cost.price(items).bytes });
    } finally {
      release();
    }
  };

  return new Elysia({ name: "import-routes", prefix: "/v1/collections/:collection_id", normalize: false })
    .use(deps.auth)
    .post(
      "/import",
      async ({ principal, params, body, request, set }) => {
        if (typeof body !== "string") {
          throw new ProblemError(
            415,
            "unsupported_media_type",
            `body: send the memories as NDJSON, one a line, with Content-Type: ${NDJSON} (got ${request.headers.get("content-type") ?? "none"})`,
          );
        }
        const collection = await deps.collections.get(principal.userId, params.collection_id);
        if (!collection) throw new NotFoundError("collection");
        const parsed = parseImport(body, now());
        if (parsed.memories.length > 0) {
          assertCanEmbedInto(collection, embeddingModel);
          // The whole import is priced and its quotas checked before anything is written.
          const price = cost.price(parsed.memories.map(({ memory }) => memory));
          await cost.checkQuota(principal, { memories: parsed.memories.length, bytes: price.bytes });
          await cost.charge(principal, price.units, "body");
        }
        const headers: Record<string, string> = { "content-type": NDJSON, "cache-control": "no-store" };
        for (const [name, value] of Object.entries(set.headers)) if (typeof value === "string") headers[name] = value;
        const stream = importStream(
          parsed,
          batchSize,
          (batch) => writeBatch(principal, params.collection_id, batch),
          (error) => deps.log.error("import failed after it began", { collection_id: params.collection_id, error }),
        );
        return new Response(stream, { status: 200, headers });
      },
      {
        response: { ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409, 415) },
        detail: {
          ...describeRoute(
            "memories",
            "Import memories from NDJSON, with progress",
            `Content-Type: ${NDJSON}; one memory a line, as POST …/memories takes one or as GET …/export writes it ` +
              "(ids kept: a given id upserts; created_at/updated_at are not applied). Same checks, embedding, quotas and cost as POST …/memories, " +
              "all checked before the answer starts. Bad lines are reported by line number and do not stop the others. " +
              'The answer streams `{"line", "imported", "failed"}` after each batch and ends with `{"done": true, ...}` (errors listed); ' +
              'a batch that fails ends it with `{"error": problem, "resume_at_line": n}` instead. The body is bounded by MAX_BODY_BYTES: ' +
              "split a bigger file into several requests (at line boundaries). No Idempotency-Key: give lines ids and a retry is an upsert.",
          ),
          ...ndjsonDocs({
            request: { schema: ImportLineSchema, description: "one memory a line (NDJSON); the schema is that of one line" },
            response: { schema: ImportAnswerLineSchema, description: "progress a batch, then a summary (or an error)" },
          }),
        },
      },
    );
}
