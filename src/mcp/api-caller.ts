/**
 * How the MCP tools reach the Memory API: one request of the public v1 contract, made with the
 * caller's own credentials. Inside the server it is the app's own handler (so validation, tiers,
 * rate limits and problems are exactly those of an HTTP client); in `bun run mcp` (stdio) it is
 * fetch to a configured base URL. The tools know nothing else.
 */

export interface ApiRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path of the v1 API, its segments already encoded (see `segment`). */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** A refusal of the API (its problem+json), or no answer at all (status 0). */
export interface ApiProblem {
  status: number;
  code: string;
  detail: string;
  /** Seconds, from Retry-After. */
  retryAfterSeconds?: number;
}

export type ApiReply = { ok: true; status: number; body: unknown } | { ok: false; problem: ApiProblem };

export type ApiCaller = (request: ApiRequest) => Promise<ApiReply>;

/** One path segment, encoded (ids are client-chosen text). */
export const segment = (value: string) => encodeURIComponent(value);

export function target(request: ApiRequest): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) query.set(key, String(value));
  }
  const search = query.toString();
  return search ? `${request.path}?${search}` : request.path;
}

function retryAfter(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  return header !== null && /^\d+(\.\d+)?$/.test(header) ? Number(header) : undefined;
}

/** The API's answer as a reply: JSON on success, the problem's fields otherwise. */
export async function readReply(response: Response): Promise<ApiReply> {
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's error page, say): kept as text below
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed };
  const problem = (parsed ?? {}) as { code?: unknown; detail?: unknown };
  return {
    ok: false,
    problem: {
      status: response.status,
      code: typeof problem.code === "string" ? problem.code : "http_error",
      detail: typeof problem.detail === "string" ? problem.detail : text.slice(0, 300) || response.statusText,
      retryAfterSeconds: retryAfter(response),
    },
  };
}

function requestInit(request: ApiRequest, headers: Record<string, string>): RequestInit {
  const all: Record<string, string> = { accept: "application/json", ...headers };
  if (request.body !== undefined) all["content-type"] = "application/json";
  return {
    method: request.method,
    headers: all,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  };
}

/**
 * The app's own handler, called with the MCP request's Authorization header (and request id, so
 * the log lines of a tool call's API request carry the /mcp request's id).
 */
export function inAppCaller(
  handle: (request: Request) => Promise<Response>,
  origin: string,
  headers: { authorization: string; requestId?: string },
): ApiCaller {
  const forwarded: Record<string, string> = { authorization: headers.authorization };
  if (headers.requestId) forwarded["x-request-id"] = headers.requestId;
  return async (request) => readReply(await handle(new Request(`${origin}${target(request)}`, requestInit(request, forwarded))));
}

export interface HttpCallerOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** The API over HTTP (the stdio server, a client program like any other). */
export function httpCaller(options: HttpCallerOptions): ApiCaller {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  return async (request) => {
    let response: Response;
    try {
      response = await doFetch(`${base}${target(request)}`, {
        ...requestInit(request, { authorization: `Bearer ${options.token}` }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      const timedOut = name === "TimeoutError" || name === "AbortError";
      return {
        ok: false,
        problem: {
          status: 0,
          code: timedOut ? "timeout" : "unreachable",
          detail: timedOut
            ? `the Memory API at ${base} did not answer within ${options.timeoutMs} ms`
            : `the Memory API at ${base} is unreachable (${(error as Error).message})`,
        },
      };
    }
    return readReply(response);
  };
}
