import type { DependencyStatus, HealthCheck } from "../../ports/health-check.ts";
import { describeError } from "./errors.ts";
import type { PgPool } from "./pool.ts";

/** `/ready` probe: a trivial query through the pool (bounded by its connection timeout). */
export class PostgresHealthCheck implements HealthCheck {
  constructor(private readonly pool: PgPool) {}

  async check(): Promise<DependencyStatus> {
    const started = performance.now();
    try {
      await this.pool.query({ name: "health", text: "SELECT 1" });
      const { total, idle, waiting } = this.pool.stats();
      return {
        name: "postgres",
        ready: true,
        latency_ms: performance.now() - started,
        detail: `pool ${total}/${this.pool.size} open, ${idle} idle, ${waiting} waiting`,
      };
    } catch (error) {
      return {
        name: "postgres",
        ready: false,
        latency_ms: performance.now() - started,
        detail: describeError(error instanceof Error && error.cause !== undefined ? error.cause : error),
      };
    }
  }
}
