/**
 * A stand-in for Notion's public API (api.notion.com is not reachable from these machines): a
 * loopback Bun.serve that answers the three endpoints the importer calls with the recorded
 * responses of test/fixtures/notion-api/responses.ts, in the documented shapes
 * (https://developers.notion.com/reference/intro: list objects with `has_more`/`next_cursor`,
 * error objects `{object: "error", status, code, message}`), checking what Notion checks:
 * the bearer token, the Notion-Version header, `page_size` ≤ 100, known cursors and filters.
 *
 *   POST /v1/search                          {filter: {property: "object", value}, start_cursor?, page_size?}
 *   GET  /v1/blocks/:id/children             ?start_cursor&page_size
 *   POST /v1/data_sources/:id/query          {start_cursor?, page_size?}
 *
 * Faults can be injected per path: a 429 with Retry-After (Notion's rate limit), or an error.
 */
import { BLOCK_PAGES, QUERY_PAGES, SEARCH_PAGES } from "../../fixtures/notion-api/responses";

export const NOTION_VERSION = "2025-09-03";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/blocks/<id>/children`. */
  path: string;
  cursor: string | undefined;
  /** performance.now() when the request arrived. */
  at: number;
  status: number;
}

export interface Fault {
  /** Matched against `METHOD path` (e.g. `GET /v1/blocks/…/children`). */
  match: string;
  /** How many of the matching requests fail (the first ones). */
  times: number;
  status: number;
  code: string;
  message: string;
  retryAfter?: string;
}

export interface FakeNotion {
  url: string;
  requests: RecordedRequest[];
  stop(): void;
}

interface ListPage {
  items: unknown[];
  next: string | null;
}

/** Pages of results → the page a cursor points at (cursor `c<index>`; none = the first). */
function pageAt(pages: unknown[][], cursor: string | undefined): ListPage | "bad_cursor" {
  const index = cursor === undefined ? 0 : /^c(\d+)$/.test(cursor) ? Number(cursor.slice(1)) : -1;
  if (index < 0 || index >= Math.max(pages.length, 1)) return "bad_cursor";
  return { items: pages[index] ?? [], next: index + 1 < pages.length ? `c${index + 1}` : null };
}

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  Response.json({ object: "error", status, code, message, request_id: crypto.randomUUID() }, { status, headers });

const list = (page: ListPage, type: string) =>
  Response.json({ object: "list", results: page.items, next_cursor: page.next, has_more: page.next !== null, type, [type]: {}, request_id: crypto.randomUUID() });

export function startFakeNotion(options: { token: string; faults?: Fault[] }): FakeNotion {
  const requests: RecordedRequest[] = [];
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times }));

  const answer = async (request: Request, url: URL, noteCursor: (cursor: string | undefined) => void): Promise<Response> => {
    if (request.headers.get("authorization") !== `Bearer ${options.token}`) return error(401, "unauthorized", "API token is invalid.");
    if (request.headers.get("notion-version") !== NOTION_VERSION) {
      return error(400, "missing_version", `Notion-Version header should be "${NOTION_VERSION}" in this recording.`);
    }
    const key = `${request.method} ${url.pathname}`;
    const fault = faults.find((f) => f.left > 0 && key.includes(f.match));
    if (fault) {
      fault.left--;
      return error(fault.status, fault.code, fault.message, fault.retryAfter ? { "retry-after": fault.retryAfter } : {});
    }
    const body = request.method === "POST" ? ((await request.json().catch(() => undefined)) as Record<string, unknown> | undefined) : undefined;
    const cursor = (body?.start_cursor as string | undefined) ?? url.searchParams.get("start_cursor") ?? undefined;
    noteCursor(cursor);
    const pageSize = Number((body?.page_size as number | undefined) ?? url.searchParams.get("page_size") ?? 100);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return error(400, "validation_error", "body.page_size should be ≤ `100`.");

    let m: RegExpExecArray | null;
    if (request.method === "POST" && url.pathname === "/v1/search") {
      const filter = body?.filter as { property?: string; value?: string } | undefined;
      if (filter?.property !== "object" || (filter.value !== "page" && filter.value !== "data_source")) {
        return error(400, "validation_error", 'body.filter.value should be "page" or "data_source".');
      }
      const page = pageAt(SEARCH_PAGES[filter.value], cursor);
      return page === "bad_cursor" ? error(400, "validation_error", "The start_cursor provided is invalid.") : list(page, "page_or_data_source");
    }
    if (request.method === "GET" && (m = /^\/v1\/blocks\/([^/]+)\/children$/.exec(url.pathname))) {
      const pages = BLOCK_PAGES[m[1]!];
      if (!pages) return error(404, "object_not_found", `Could not find block with ID: ${m[1]}. Make sure the relevant pages and databases are shared with your integration.`);
      const page = pageAt(pages, cursor);
      return page === "bad_cursor" ? error(400, "validation_error", "The start_cursor provided is invalid.") : list(page, "block");
    }
    if (request.method === "POST" && (m = /^\/v1\/data_sources\/([^/]+)\/query$/.exec(url.pathname))) {
      const pages = QUERY_PAGES[m[1]!];
      if (!pages) return error(404, "object_not_found", `Could not find data_source with ID: ${m[1]}.`);
      const page = pageAt(pages, cursor);
      return page === "bad_cursor" ? error(400, "validation_error", "The start_cursor provided is invalid.") : list(page, "page_or_data_source");
    }
    return error(400, "invalid_request_url", "Invalid request URL.");
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const at = performance.now();
      let cursor: string | undefined;
      const response = await answer(request, url, (c) => (cursor = c));
      requests.push({ method: request.method, path: url.pathname, cursor, at, status: response.status });
      return response;
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}
