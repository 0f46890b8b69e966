import { Elysia, ValidationError } from "elysia";
import {
  CollectionNotFoundError,
  DependencyUnavailableError,
  DuplicateNameError,
  EmbeddingModelMismatchError,
  InvalidCursorError,
  InvalidInputError,
  NotFoundError,
  PremiumRequiredError,
  QueueFullError,
  StaleUpdateError,
} from "../domain/errors";
import { enterRequestScope, type Logger } from "../log";
import { ProblemError, problemResponse, type ProblemCode } from "./problem";
import { readBodyWithin } from "./body";
import { isNdjson } from "./ndjson";

const decoder = new TextDecoder();
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** `/memories/0/content` → `memories[0].content` */
export function fieldPath(pointer: string): string {
  return pointer
    .split("/")
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), "");
}

/** The path of the first string (value or key) holding U+0000, which no store can keep. */
export function findNul(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes("\0") ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes("\0")) return childPath;
      const found = findNul(child, childPath);
      if (found !== null) return found;
    }
  }
  return null;
}

interface UnionOption {
  const?: unknown;
  type?: string;
  minimum?: number;
  maximum?: number;
}

function describeValidation(error: ValidationError): { field: string; detail: string } {
  const first = error.all[0] as { path?: string; message?: string; schema?: { description?: string } } | undefined;
  const where = error.type === "body" ? "" : `${error.type}.`;
  const path = fieldPath(first?.path ?? "");
  const field = path ? `${where}${path}` : error.type;
  let message = first?.message ?? "is invalid";
  if (/^Expected union value$/.test(message) && first?.schema && "anyOf" in first.schema) {
    const anyOf = (first.schema as { anyOf: UnionOption[] }).anyOf;
    const options = anyOf.map((s) => s.const).filter((c) => c !== undefined);
    if (options.length > 0) message = `must be one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
    else if (anyOf.length === 2 && anyOf.some((s) => s.type === "null")) {
      // A nullable number (e.g. PATCH's dedupe_threshold): say what the number must be.
      const value = anyOf.find((s) => s.type !== "null")!;
      if (value.type === "number" || value.type === "integer") {
        const range = value.minimum !== undefined && value.maximum !== undefined ? ` from ${value.minimum} to ${value.maximum}` : "";
        message = `must be a${value.type === "integer" ? "n integer" : " number"}${range}, or null`;
      }
    }
  }
  return { field, detail: `${field}: ${message}` };
}

/** The problem a domain error stands for (errors with headers, such as 503s, are mapped in the plugin). */
function domainProblem(error: unknown): { status: number; code: ProblemCode; detail: string; field?: string } | null {
  if (error instanceof NotFoundError) return { status: 404, code: "not_found", detail: error.message };
  // A collection deleted while a write to it was on its way: from outside, it is not there.
  if (error instanceof CollectionNotFoundError) return { status: 404, code: "not_found", detail: "collection not found" };
  if (error instanceof InvalidInputError) {
    return { status: 422, code: "validation_failed", detail: error.message, field: error.field };
  }
  // Every cursor arrives as the `cursor` query parameter.
  if (error instanceof InvalidCursorError) {
    return { status: 422, code: "validation_failed", detail: "query.cursor: is not a cursor this API returned", field: "query.cursor" };
  }
  if (error instanceof DuplicateNameError) {
    return { status: 409, code: "conflict", detail: `name: ${error.message}`, field: "name" };
  }
  if (error instanceof PremiumRequiredError) return { status: 403, code: "premium_required", detail: error.message };
  // Only after the route's retries: writes to this memory keep racing with this one.
  if (error instanceof StaleUpdateError) {
    return { status: 409, code: "conflict", detail: "the memory kept changing while this update was applied; retry it" };
  }
  // The request is valid but conflicts with the collection's state (its vectors' model).
  if (error instanceof EmbeddingModelMismatchError) return { status: 409, code: "embedding_model_mismatch", detail: error.message };
  return null;
}

/**
 * Request ids, the body limit and the mapping of every error to problem+json.
 * Anything a client can send ends here as a 4xx; a 500 means a bug and is logged as one.
 */
export function errorsPlugin(opts: { log: Logger; maxBodyBytes: number }) {
  const requestIds = new WeakMap<Request, string>();
  return new Elysia({ name: "errors" })
    .onRequest(({ request, set }) => {
      const given = request.headers.get("x-request-id");
      const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
      requestIds.set(request, id);
      enterRequestScope(id);
      set.headers["x-request-id"] = id;
      const length = request.headers.get("content-length");
      if (length !== null && Number(length) > opts.maxBodyBytes) {
        return problemResponse(
          413,
          "payload_too_large",
          `request body is ${length} bytes; the limit is ${opts.maxBodyBytes}`,
          { headers: { "x-request-id": id, connection: "close" }, requestId: id },
        );
      }
    })
    .onParse({ as: "global" }, async ({ request }) => {
      // Every body of this API is JSON, whatever Content-Type a client sent (curl -d sends
      // form encoding), except one declared as NDJSON (import), which reaches its route as text;
      // the size is checked on the bytes, as chunked bodies have no length.
      const bytes = await readBodyWithin(request, opts.maxBodyBytes);
      if (bytes === null || bytes.byteLength > opts.maxBodyBytes) {
        throw new ProblemError(413, "payload_too_large", `request body exceeds ${opts.maxBodyBytes} bytes`, {
          headers: { connection: "close" },
        });
      }
      if (isNdjson(request.headers.get("content-type"))) return decoder.decode(bytes);
      if (bytes.byteLength === 0) return undefined;
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(bytes));
      } catch {
        throw new ProblemError(400, "invalid_json", "request body is not valid JSON");
      }
      const nul = findNul(body, "");
      if (nul !== null) {
        const field = nul || "body";
        throw new ProblemError(422, "validation_failed", `${field}: contains U+0000 (NUL), which cannot be stored`, {
          field,
        });
      }
      return body;
    })
    .onError({ as: "global" }, ({ code, error: raised, request, path, set }) => {
      let error: unknown = raised;
      const requestId = requestIds.get(request) ?? crypto.randomUUID();
      const headers: Record<string, string> = { "x-request-id": requestId };
      const respond = (status: number, problem: Parameters<typeof problemResponse>[1], detail: string, field?: string) => {
        set.status = status; // what the request metrics record (the Response below is what is sent)
        return problemResponse(status, problem, detail, { field, headers, requestId });
      };

      // A ProblemError thrown by the body parser reaches here wrapped in Elysia's ParseError.
      if (code === "PARSE" && (error as Error).cause instanceof ProblemError) error = (error as Error).cause as ProblemError;
      if (error instanceof ProblemError) {
        Object.assign(headers, error.extra.headers);
        return respond(error.status, error.code, error.detail, error.extra.field);
      }
      const domain = domainProblem(error);
      if (domain) return respond(domain.status, domain.code, domain.detail, domain.field);
      if (error instanceof QueueFullError) {
        headers["retry-after"] = String(error.retryAfterSeconds);
        return respond(503, "overloaded", `${error.message}; retry shortly`);
      }
      if (error instanceof DependencyUnavailableError) {
        headers["retry-after"] = String(error.retryAfterSeconds);
        opts.log.warn("dependency unavailable", { request_id: requestId, dependency: error.dependency });
        return respond(503, "dependency_unavailable", `${error.message}; the request was not applied, retry shortly`);
      }
      switch (code) {
        case "VALIDATION": {
          const { field, detail } = describeValidation(error as ValidationError);
          return respond(422, "validation_failed", detail, field);
        }
        case "PARSE":
          return respond(400, "invalid_json", "request body is not valid JSON");
        case "NOT_FOUND":
          return respond(404, "not_found", `no route for ${request.method} ${path}`);
      }
      const message = error instanceof Error ? error.message : String(error);
      if (/body.*(too large|exceed)|payload too large/i.test(message)) {
        return respond(413, "payload_too_large", `request body exceeds ${opts.maxBodyBytes} bytes`);
      }
      opts.log.error("unhandled error", { request_id: requestId, method: request.method, path, error });
      return respond(500, "internal_error", "an internal error occurred; it has been logged");
    });
}
