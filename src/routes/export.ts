/**
 * GET …/export: a collection's memories (or those a filter matches) as an NDJSON stream, read
 * from the store a page at a time as the client reads, so memory stays flat for any size.
 *
 * Lines, in order: each memory as GET …/memories/:id answers it; after each page, a checkpoint
 * `{"next_cursor": "<cursor>", "exported": <memories so far>}`. The export is complete exactly when
 * its last line is `{"next_cursor": null, ...}`. A download that broke off resumes with
 * `?cursor=<the last checkpoint's next_cursor>` (and the same filter); memories read after that
 * checkpoint are sent again. An error once the stream began ends it with `{"error": <problem>}`
 * and no final checkpoint. Errors before the first byte are problem+json.
 */
import { Elysia, t } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import { NotFoundError } from "../domain/errors";
import type { Memory, Page } from "../domain/memory";
import type { SearchFilter } from "../domain/search";
import type { Logger } from "../log";
import { AUTHENTICATED, describeRoute, ndjsonDocs, problems } from "../http/openapi";
import { NDJSON, ndjsonLines } from "../http/ndjson";
import { streamedProblem } from "../http/streamed-problem";
import type { CollectionStore } from "../ports/collection-store";
import type { MemoryStore } from "../ports/memory-store";
import { parseFilterParam } from "../search/filters/query-param";
import { presentMemory } from "./memories";
import { ListMemoriesQuery, MemorySchema, ProblemSchema } from "./schemas";

export interface ExportRoutesDeps {
  auth: AuthPlugin;
  collections: CollectionStore;
  memories: MemoryStore;
  log: Logger;
  /** Memories read from the store at a time (one checkpoint each); default 500. */
  pageSize?: number;
}

export const ExportQuery = t.Omit(ListMemoriesQuery, ["limit"]);

export const ExportCheckpointSchema = t.Object(
  {
    next_cursor: t.Union([t.String(), t.Null()], {
      description: "resume a broken download with ?cursor= this (same filter); null: the export is complete",
    }),
    exported: t.Integer({ description: "memory lines sent so far in this answer" }),
  },
  { additionalProperties: false },
);

export const ExportErrorSchema = t.Object(
  { error: t.Intersect([ProblemSchema, t.Object({ retry_after: t.Optional(t.Number()) })]) },
  { description: "the export failed after it began: resume from the last checkpoint" },
);

export const ExportLineSchema = t.Union([MemorySchema, ExportCheckpointSchema, ExportErrorSchema], {
  description: "one line: a memory (as GET …/memories/:id answers it), a checkpoint after each page, or an error that ends an incomplete export",
});

function exportStream(
  first: Page<Memory>,
  nextPage: (cursor: string) => Promise<Page<Memory>>,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  let page: Page<Memory> | null = first;
  let cursor: string | null = null;
  let exported = 0;
  return new ReadableStream<Uint8Array>(
    {
      // One page a pull: the store is read only as fast as the client reads.
      async pull(controller) {
        try {
          page ??= await nextPage(cursor!);
          exported += page.items.length;
          controller.enqueue(ndjsonLines([...page.items.map(presentMemory), { next_cursor: page.next_cursor, exported }]));
          cursor = page.next_cursor;
          page = null;
          if (cursor === null) controller.close();
        } catch (error) {
          onError(error);
          controller.enqueue(ndjsonLines([{ error: streamedProblem(error) }]));
          controller.close();
        }
      },
    },
    { highWaterMark: 0 },
  );
}

export function exportRoutes(deps: ExportRoutesDeps) {
  const pageSize = deps.pageSize ?? 500;
  return new Elysia({ name: "export-routes", prefix: "/v1/collections/:collection_id", normalize: false })
    .use(deps.auth)
    .get(
      "/export",
      async ({ principal, params, query, set }) => {
        const collection = await deps.collections.get(principal.userId, params.collection_id);
        if (!collection) throw new NotFoundError("collection");
        const filter: SearchFilter = parseFilterParam(query.filter);
        const list = (cursor: string | undefined) => deps.memories.list(params.collection_id, { limit: pageSize, cursor, filter });
        // The first page is read before the answer starts: a bad cursor is still a 422 problem.
        const first = await list(query.cursor);
        const headers: Record<string, string> = { "content-type": NDJSON, "cache-control": "no-store" };
        for (const [name, value] of Object.entries(set.headers)) if (typeof value === "string") headers[name] = value;
        const stream = exportStream(first, list, (error) =>
          deps.log.error("export failed after it began", { collection_id: params.collection_id, error }),
        );
        return new Response(stream, { status: 200, headers });
      },
      {
        query: ExportQuery,
        response: { ...problems(...AUTHENTICATED, 404, 422) },
        detail: {
          ...describeRoute(
            "memories",
            "Export memories as NDJSON, resumable",
            "One memory a line, as GET …/memories/:id answers it, in insertion order (expired ones left out); " +
              '`filter` as in GET …/memories. After each page a checkpoint line `{"next_cursor": …, "exported": n}`: ' +
              "the export is complete exactly when the last line's next_cursor is null. A broken download resumes with " +
              "`cursor` = the last checkpoint's next_cursor (memories after it are sent again). An error after the answer " +
              'began ends it with `{"error": problem}` and no final checkpoint. The lines are what POST …/import reads.',
          ),
          ...ndjsonDocs({ response: { schema: ExportLineSchema, description: "the memories, one a line, with checkpoints" } }),
        },
      },
    );
}
