// Where the stack lives and which ports it uses. The only place scripts/stack reads the
// environment. Every default matches what src/config.ts expects when no variable is set.
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port (1..65535)`);
  }
  return n;
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

function ports(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  return raw.split(",").map((p, i) => {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}: item ${i + 1} (${p}) is not a TCP port`);
    return n;
  });
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name}=${raw}: expected one of ${allowed.join(", ")}`);
  return raw as T;
}

export const HOST = "127.0.0.1";

export const config = {
  root: ROOT,
  /** all state: data, logs, pidfiles, venv, built launcher (git-ignored) */
  stackDir: resolve(ROOT, process.env.STACK_DIR ?? ".stack"),
  /** download caches that survive `rm -rf .stack` (git-ignored) */
  cacheDir: resolve(ROOT, ".cache"),
  postgres: {
    port: port("STACK_POSTGRES_PORT", 5432),
    /** Debian's PostgreSQL 15 server binaries */
    bin: process.env.STACK_POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin",
    user: "memory",
    password: "memory",
    database: "memory",
  },
  redis: {
    port: port("STACK_REDIS_PORT", 6379),
    /** unset: one is generated at the first start and kept in .stack/redis/password */
    password: process.env.STACK_REDIS_PASSWORD || undefined,
  },
  nginx: {
    port: port("STACK_NGINX_PORT", 8000),
    /** the API workers nginx balances over (started by someone else) */
    upstreams: ports("STACK_NGINX_UPSTREAMS", [8001, 8002]),
  },
  milvus: {
    /** the pip package = the Milvus server version; the Node SDK 2.3.5 matches this line */
    version: "2.3.5",
    port: port("STACK_MILVUS_PORT", 19530),
    /** Milvus' HTTP side: /healthz and Prometheus /metrics */
    metricsPort: port("STACK_MILVUS_METRICS_PORT", 9091),
    etcdPort: port("STACK_MILVUS_ETCD_PORT", 2379),
    /** knowhere SIMD level; "auto" picks AVX-512 where the CPU has it */
    simd: oneOf("STACK_MILVUS_SIMD", ["auto", "avx512", "avx2", "avx", "sse4_2"] as const, "auto"),
    logLevel: oneOf("STACK_MILVUS_LOG_LEVEL", ["debug", "info", "warn", "error"] as const, "warn"),
  },
  neo4j: {
    port: port("STACK_NEO4J_PORT", 7687),
    heapMb: int("STACK_NEO4J_HEAP_MB", 1024),
    pageCacheMb: int("STACK_NEO4J_PAGECACHE_MB", 512),
  },
  /** seconds to wait for a service to answer after starting it */
  startTimeoutS: int("STACK_START_TIMEOUT", 180),
} as const;

export type StackConfig = typeof config;
