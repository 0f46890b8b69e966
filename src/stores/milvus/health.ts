import { LoadState } from "@zilliz/milvus2-sdk-node";
import type { DependencyStatus, HealthCheck } from "../../ports/health-check.ts";
import type { MilvusConnection } from "./connection.ts";

/** Bound on one readiness probe: /ready must answer even when Milvus hangs. */
const CHECK_TIMEOUT_MS = 2000;

/** Ready when Milvus answers AND the collection is loaded AND this process finished warm(). */
export class MilvusHealthCheck implements HealthCheck {
  constructor(private readonly conn: MilvusConnection) {}

  async check(): Promise<DependencyStatus> {
    const started = performance.now();
    try {
      const state = await this.conn.loadState(CHECK_TIMEOUT_MS);
      const latency_ms = Math.round((performance.now() - started) * 10) / 10;
      const loaded = state === LoadState.LoadStateLoaded;
      if (!loaded && this.conn.warmed) this.conn.reloadInBackground();
      const ready = loaded && this.conn.warmed;
      const detail = ready
        ? `collection ${this.conn.collection} loaded`
        : !this.conn.warmed
          ? `collection ${this.conn.collection} not warmed yet (${state})`
          : `collection ${this.conn.collection} ${state}; reloading`;
      return { name: "milvus", ready, latency_ms, detail };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      return {
        name: "milvus",
        ready: false,
        latency_ms: Math.round((performance.now() - started) * 10) / 10,
        detail: `unreachable: ${cause instanceof Error ? cause.message : String(cause)}`,
      };
    }
  }
}
