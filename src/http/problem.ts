/** RFC 9457 problem details: the one error shape every endpoint answers with. */

export type ProblemCode =
  | "invalid_json"
  | "validation_failed"
  | "unauthorized"
  | "premium_required"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "embedding_model_mismatch"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "quota_exceeded"
  | "too_many_concurrent_writes"
  | "overloaded"
  | "dependency_unavailable"
  | "internal_error";

const TITLES: Record<ProblemCode, string> = {
  invalid_json: "Malformed JSON body",
  validation_failed: "Invalid request",
  unauthorized: "Authentication required",
  premium_required: "Premium plan required",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  embedding_model_mismatch: "Embedding model mismatch",
  payload_too_large: "Request body too large",
  unsupported_media_type: "Unsupported media type",
  rate_limited: "Too many requests",
  quota_exceeded: "Quota exceeded",
  too_many_concurrent_writes: "Too many writes in flight",
  overloaded: "Service overloaded",
  dependency_unavailable: "Dependency unavailable",
  internal_error: "Internal error",
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  /** The offending field, for validation problems (dotted path, e.g. `memories[0].content`). */
  field?: string;
  request_id?: string;
}

/** Throw from anywhere in a handler; the errors plugin turns it into problem+json. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export function problemBody(status: number, code: ProblemCode, detail: string, field?: string): ProblemBody {
  const body: ProblemBody = { type: `/problems/${code}`, title: TITLES[code], status, detail, code };
  if (field !== undefined) body.field = field;
  return body;
}

export function problemResponse(
  status: number,
  code: ProblemCode,
  detail: string,
  opts: { field?: string; headers?: Record<string, string>; requestId?: string } = {},
): Response {
  const body = problemBody(status, code, detail, opts.field);
  if (opts.requestId) body.request_id = opts.requestId;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...opts.headers },
  });
}

export const notFound = (what: string) => new ProblemError(404, "not_found", `${what} not found`);
export const invalidField = (field: string, detail: string) =>
  new ProblemError(422, "validation_failed", `${field}: ${detail}`, { field });
