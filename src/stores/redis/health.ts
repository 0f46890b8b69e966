import type { RedisClient } from "./client";
import type { DependencyStatus, HealthCheck } from "../../ports/health-check";

export class RedisHealthCheck implements HealthCheck {
  constructor(private readonly redis: RedisClient) {}

  async check(): Promise<DependencyStatus> {
    const started = performance.now();
    try {
      await this.redis.ping();
      return { name: "redis", ready: true, optional: true, latency_ms: performance.now() - started };
    } catch (error) {
      return { name: "redis", ready: false, optional: true, detail: `${String(error)}; searches bypass the cache` };
    }
  }
}
