/**
 * Request durations (and the optional access log) for every request, by route TEMPLATE
 * (`/v1/collections/:collection_id/memories`, never the raw path: bounded label values) and
 * final status. Must be the first plugin of the app: its onRequest runs before any other hook
 * can answer early.
 *
 * Per request: one performance.now() at the start, one at the end, a cached label child and an
 * observe(). Requests the errors plugin refuses in onRequest (413 by Content-Length) never
 * reach onAfterResponse and are not counted.
 */
import { Elysia, StatusMap } from "elysia";
import type { Logger } from "../log";
import type { Metrics } from "./metrics";

const STARTED = Symbol("memory-api.request-started");
/** No route matched (a 404 for an unknown path): one label value, whatever was asked. */
export const UNMATCHED_ROUTE = "unmatched";

export interface HttpMetricsOptions {
  metrics: Pick<Metrics, "observeRequest">;
  log: Logger;
  /** One info line per request (ACCESS_LOG); off by default: at 10k req/s it is the load. */
  accessLog: boolean;
}

export function httpMetricsPlugin(opts: HttpMetricsOptions) {
  const { metrics, log, accessLog } = opts;
  return new Elysia({ name: "http-metrics" })
    .onRequest((context) => {
      (context as unknown as Record<symbol, number>)[STARTED] = performance.now();
    })
    .onAfterResponse({ as: "global" }, (context) => {
      const started = (context as unknown as Record<symbol, number | undefined>)[STARTED];
      if (started === undefined) return;
      const seconds = (performance.now() - started) / 1000;
      const { response, set } = context as { response?: unknown; set: { status?: number | string } };
      const status =
        response instanceof Response
          ? response.status
          : typeof set.status === "number"
            ? set.status
            : (StatusMap[set.status as keyof typeof StatusMap] ?? 200);
      const route = (context as { route?: string }).route || UNMATCHED_ROUTE;
      const method = context.request.method;
      metrics.observeRequest(method, route, status, seconds);
      if (accessLog) {
        // request_id comes from the request's log scope (see log.ts); never the path's ids or the body
        log.info("request", { method, route, status, duration_ms: Math.round(seconds * 1e6) / 1000 });
      }
    });
}
