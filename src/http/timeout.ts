import { Elysia } from "elysia";
import { problemResponse } from "./problem";

const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

interface Pending {
  deadline: number;
  request: Request;
  resolve: (response: Response) => void;
}

/**
 * Answers 503 problem+json with Retry-After to a request still unanswered after `timeoutMs`,
 * instead of letting the client hang on a stuck dependency. The work itself cannot be cancelled
 * and goes on; a write that completes late is still durable (and a retry with the same ids is an
 * idempotent upsert), which the answer says.
 *
 * One sweep timer for all requests (not one timer each): a request costs a Set insert and delete.
 * It wraps Elysia's fetch handler (`wrap`), the one place that sees every request whole.
 */
export function requestTimeoutPlugin(timeoutMs: number) {
  const pending = new Set<Pending>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweepEveryMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));

  const sweep = () => {
    const now = performance.now();
    for (const entry of pending) {
      if (entry.deadline > now) continue;
      pending.delete(entry);
      const given = entry.request.headers.get("x-request-id");
      const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
      entry.resolve(
        problemResponse(
          503,
          "overloaded",
          `the request did not complete within ${timeoutMs} ms; retry shortly (a write may still be applied: retry it with the same ids)`,
          { headers: { "retry-after": "1", "x-request-id": requestId }, requestId },
        ),
      );
    }
    if (pending.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  return new Elysia({ name: "request-timeout", seed: timeoutMs }).wrap(
    (handle) =>
      (request: Request): unknown => {
        const result = (handle as (request: Request) => unknown)(request);
        if (!(result instanceof Promise)) return result;
        return new Promise<Response>((resolve, reject) => {
          const entry: Pending = { deadline: performance.now() + timeoutMs, request, resolve };
          pending.add(entry);
          if (sweeper === undefined) {
            sweeper = setInterval(sweep, sweepEveryMs);
            sweeper.unref?.();
          }
          result.then(
            (response) => {
              if (pending.delete(entry)) resolve(response as Response);
            },
            (error) => {
              if (pending.delete(entry)) reject(error);
            },
          );
        });
      },
  );
}
