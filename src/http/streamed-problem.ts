import {
  CollectionNotFoundError,
  DependencyUnavailableError,
  EmbeddingModelMismatchError,
  NotFoundError,
  QueueFullError,
} from "../domain/errors";
import { ProblemError, problemBody, type ProblemBody } from "./problem";

/**
 * The problem an error raised after a streamed answer (export, import) began stands for: its
 * status line is sent, so the problem travels as a line of the stream instead (errors.ts maps
 * the same errors before the first byte). `retry_after` (seconds) when retrying later may help.
 */
export function streamedProblem(error: unknown): ProblemBody & { retry_after?: number } {
  if (error instanceof ProblemError) {
    const retry = error.extra.headers?.["retry-after"];
    const body = problemBody(error.status, error.code, error.detail, error.extra.field);
    return retry === undefined ? body : { ...body, retry_after: Number(retry) };
  }
  if (error instanceof NotFoundError) return problemBody(404, "not_found", error.message);
  if (error instanceof CollectionNotFoundError) return problemBody(404, "not_found", "collection not found (deleted meanwhile)");
  if (error instanceof EmbeddingModelMismatchError) return problemBody(409, "embedding_model_mismatch", error.message);
  if (error instanceof QueueFullError) {
    return { ...problemBody(503, "overloaded", `${error.message}; retry shortly`), retry_after: error.retryAfterSeconds };
  }
  if (error instanceof DependencyUnavailableError) {
    return { ...problemBody(503, "dependency_unavailable", `${error.message}; retry shortly`), retry_after: error.retryAfterSeconds };
  }
  return problemBody(500, "internal_error", "an internal error occurred; it has been logged");
}
