import type { Database } from "bun:sqlite";
import type { DependencyStatus, HealthCheck } from "../../ports/health-check.ts";

/** `/ready` probe: a trivial query on the embedded database. */
export class EmbeddedHealthCheck implements HealthCheck {
  constructor(private readonly db: Database) {}

  async check(): Promise<DependencyStatus> {
    const started = performance.now();
    try {
      this.db.query("SELECT 1").get();
      return { name: "sqlite", ready: true, latency_ms: performance.now() - started };
    } catch (error) {
      return {
        name: "sqlite",
        ready: false,
        latency_ms: performance.now() - started,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
