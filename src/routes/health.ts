import { Elysia } from "elysia";
import type { DependencyStatus, HealthCheck } from "../ports/health-check";
import pkg from "../../package.json";
import { problems } from "../http/openapi";
import { HealthSchema, ReadinessSchema } from "./schemas";
import type { Logger } from "../log";

export interface HealthRoutesDeps {
  checks: HealthCheck[];
  /** Where a dependency's raw state (errors with hosts and ports, pool statistics) goes instead of the body. */
  log?: Logger;
}

/**
 * What /ready shows of a dependency: its name and a generic state. The probes' details (error
 * text naming hosts and ports, pool statistics) go to the log, once per change, never to callers.
 */
function publicState(d: DependencyStatus): DependencyStatus {
  return {
    name: d.name,
    ready: d.ready,
    ...(d.optional ? { optional: true } : {}),
    ...(d.latency_ms === undefined ? {} : { latency_ms: d.latency_ms }),
    detail: d.ready ? "ok" : "unavailable",
  };
}

export function healthRoutes(deps: HealthRoutesDeps) {
  const lastLogged = new Map<string, string>();
  const logChanges = (dependencies: DependencyStatus[]) => {
    for (const d of dependencies) {
      // a ready dependency's detail (pool counts) changes all the time: only its readiness counts
      const state = d.ready ? "ready" : `not ready: ${d.detail ?? ""}`;
      const previous = lastLogged.get(d.name);
      if (previous === state) continue;
      lastLogged.set(d.name, state);
      if (!d.ready) deps.log?.warn("readiness: dependency not ready", { dependency: d.name, optional: d.optional ?? false, detail: d.detail });
      else if (previous !== undefined) deps.log?.info("readiness: dependency ready again", { dependency: d.name });
    }
  };
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
      logChanges(dependencies);
      const ready = dependencies.every((d) => d.ready || d.optional);
      const degraded = dependencies.some((d) => !d.ready && d.optional);
      set.status = ready ? 200 : 503;
      if (!ready) set.headers["retry-after"] = "5";
      return { status: ready ? (degraded ? "degraded" : "ready") : "not_ready", dependencies: dependencies.map(publicState) } as const;
    }, {
      response: { 200: ReadinessSchema, 503: ReadinessSchema },
      detail: { tags: ["health"], summary: "Readiness: every dependency reachable and warm (503 otherwise)" },
    });
}
