import type { Driver } from "neo4j-driver";
import type { DependencyStatus, HealthCheck } from "../../ports/health-check.ts";

/** Bound on one readiness probe: /ready must answer even when Neo4j hangs. */
const CHECK_TIMEOUT_MS = 2000;

/** Ready when Neo4j answers a query and this process finished warm(). */
export class Neo4jHealthCheck implements HealthCheck {
  constructor(
    private readonly driver: Driver,
    private readonly state: { warmed: boolean },
  ) {}

  async check(): Promise<DependencyStatus> {
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    const session = this.driver.session({ defaultAccessMode: "READ" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        session.run("RETURN 1", {}, { timeout: CHECK_TIMEOUT_MS }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
        }),
      ]);
      const ready = this.state.warmed;
      return { name: "neo4j", ready, latency_ms: latency(), detail: ready ? "connected" : "connected, not warmed yet" };
    } catch (error) {
      return { name: "neo4j", ready: false, latency_ms: latency(), detail: `unreachable: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      clearTimeout(timer);
      session.close().catch(() => {});
    }
  }
}
