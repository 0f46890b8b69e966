import { Elysia } from "elysia";
import type { Metrics } from "../metrics/metrics";

/**
 * GET /metrics: this worker's metrics in Prometheus text format. No auth and no rate limit
 * (only routes that resolve a principal are limited), like /health: keep workers' ports
 * private and let Prometheus scrape each one (README, Operations).
 */
export function metricsRoutes(deps: { metrics: Pick<Metrics, "render" | "contentType"> }) {
  return new Elysia({ name: "metrics-routes" }).get(
    "/metrics",
    async () => new Response(await deps.metrics.render(), { headers: { "content-type": deps.metrics.contentType } }),
    {
      detail: {
        tags: ["health"],
        summary: "This worker's metrics (Prometheus text format)",
        responses: { 200: { description: "OK", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
  );
}
