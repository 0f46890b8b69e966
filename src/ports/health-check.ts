/** A dependency's state for /ready. */
export interface DependencyStatus {
  name: string;
  ready: boolean;
  /** The service degrades without it (e.g. the cache) instead of failing: /ready stays 200. */
  optional?: boolean;
  latency_ms?: number;
  detail?: string;
}

export interface HealthCheck {
  check(): Promise<DependencyStatus>;
}
