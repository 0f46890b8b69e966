import { Elysia } from "elysia";
import type { DependencyStatus, HealthCheck } from "../ports/health-check";
import pkg from "../../package.json";
import { problems } from "../http/openapi";
import { HealthSchema, ReadinessSchema } from "./schemas";

export interface HealthRoutesDeps {
  checks: HealthCheck[];
}

export function healthRoutes(deps: HealthRoutesDeps) {
  const healthy = JSON.stringify({ status: "healthy", version: pkg.version });
  return new Elysia({ name: "health-routes" })
    .get(
      "/health",
      () => new Response(healthy, { headers: { "content-type": "application/json" } }),
      { response: { 200: HealthSchema }, detail: { tags: ["health"], summary: "Liveness" } },
    )
    .get("/ready", async ({ set }) => {
      const dependencies = await Promise.all(
        deps.checks.map((c) =>
          c.check().catch((error: unknown): DependencyStatus => ({ name: "unknown", ready: false, detail: String(error) })),
        ),
      );
      const ready = dependencies.every((d) => d.ready || d.optional);
      const degraded = dependencies.some((d) => !d.ready && d.optional);
      set.status = ready ? 200 : 503;
      if (!ready) set.headers["retry-after"] = "5";
      return { status: ready ? (degraded ? "degraded" : "ready") : "not_ready", dependencies } as const;
    }, {
      response: { 200: ReadinessSchema, 503: ReadinessSchema },
      detail: { tags: ["health"], summary: "Readiness: every dependency reachable and warm (503 otherwise)" },
    });
}
