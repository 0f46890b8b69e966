// Where the stack lives and which ports it uses. The only place scripts/stack reads the
// environment. The services' ports and credentials default to the server's own defaults
// (src/config.ts), so a server started with no variables finds them.
import { resolve } from "node:path";
import { DEFAULTS } from "../../src/config.ts";
import { ConfigError, EnvReader } from "../../src/env-reader.ts";

const ROOT = resolve(import.meta.dir, "../..");
const env = new EnvReader(process.env);

const port = (name: string, fallback: number) => env.int(name, fallback, 1, 65535);

function ports(name: string, fallback: number[]): number[] {
  const raw = env.optional(name);
  if (raw === undefined) return fallback;
  return raw.split(",").map((p, i) => {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) env.problems.push(`${name}: item ${i + 1} (${p}) is not a TCP port`);
    return n;
  });
}

export const HOST = DEFAULTS.host;

export const config = {
  root: ROOT,
  /** all state: data, logs, pidfiles, venv, built launcher (git-ignored) */
  stackDir: resolve(ROOT, env.string("STACK_DIR", ".stack")),
  /** download caches that survive `rm -rf .stack` (git-ignored) */
  cacheDir: resolve(ROOT, ".cache"),
  postgres: {
    ...DEFAULTS.postgres,
    port: port("STACK_POSTGRES_PORT", DEFAULTS.postgres.port),
    /** Debian's PostgreSQL 15 server binaries */
    bin: env.string("STACK_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"),
  },
  /** the streaming standby of the primary (scripts/stack/postgres-replica.ts) */
  postgresReplica: {
    port: port("STACK_POSTGRES_REPLICA_PORT", DEFAULTS.postgresReplica.port),
    /** unset: one is generated at the first start and kept in .stack/postgres/replication-password */
    replicationPassword: env.optional("STACK_POSTGRES_REPLICATION_PASSWORD"),
  },
  redis: {
    port: port("STACK_REDIS_PORT", DEFAULTS.redis.port),
    /** unset: one is generated at the first start and kept in .stack/redis/password */
    password: env.optional("STACK_REDIS_PASSWORD"),
    /** three masters of a Redis Cluster (no replicas), for the cluster-mode tests and the two-host bench */
    clusterPorts: ports("STACK_REDIS_CLUSTER_PORTS", [7001, 7002, 7003]),
    /** one Sentinel that monitors the stack's Redis above as master "memory-api" */
    sentinelPort: port("STACK_REDIS_SENTINEL_PORT", 26379),
    sentinelMaster: "memory-api",
  },
  nginx: {
    port: port("STACK_NGINX_PORT", DEFAULTS.port),
    /** the API workers nginx balances over (started by someone else): the first two of `bun run cluster` */
    upstreams: ports("STACK_NGINX_UPSTREAMS", [DEFAULTS.clusterBasePort, DEFAULTS.clusterBasePort + 1]),
    /**
     * Requests nginx lets each worker hold at once (`max_conns`); beyond them on every worker a
     * request is answered 503 + Retry-After at once instead of queueing: a worker's queue, and so
     * its latency, stays bounded under overload. 0 = no bound.
     */
    maxConnsPerWorker: env.int("STACK_NGINX_MAX_CONNS", 64, 0, 100_000),
  },
  milvus: {
    /** the pip package = the Milvus server version; the Node SDK 2.3.5 matches this line */
    version: "2.3.5",
    port: port("STACK_MILVUS_PORT", DEFAULTS.milvus.port),
    /** Milvus' HTTP side: /healthz and Prometheus /metrics */
    metricsPort: port("STACK_MILVUS_METRICS_PORT", 9091),
    etcdPort: port("STACK_MILVUS_ETCD_PORT", 2379),
    /** knowhere SIMD level; "auto" picks AVX-512 where the CPU has it */
    simd: env.oneOf("STACK_MILVUS_SIMD", "auto", ["auto", "avx512", "avx2", "avx", "sse4_2"] as const),
    logLevel: env.oneOf("STACK_MILVUS_LOG_LEVEL", "warn", ["debug", "info", "warn", "error"] as const),
    /**
     * A second query node (scripts/stack/milvus-querynode.ts) beside the standalone's own, so
     * collections load with two replicas (`stack env` sets MILVUS_REPLICAS=2).
     */
    queryNodePort: port("STACK_MILVUS_QUERYNODE_PORT", 21223),
    queryNodeMetricsPort: port("STACK_MILVUS_QUERYNODE_METRICS_PORT", 9291),
  },
  /** Kafka in KRaft mode: Milvus' message queue, which its processes share (RocksMQ is in-process) */
  kafka: {
    /** Apache Kafka from Maven Central (scripts/stack/kafka/pom.xml keeps the same version) */
    version: "3.7.2",
    port: port("STACK_KAFKA_PORT", 9092),
    controllerPort: port("STACK_KAFKA_CONTROLLER_PORT", 9093),
    heapMb: env.int("STACK_KAFKA_HEAP_MB", 512, 128, Number.MAX_SAFE_INTEGER),
  },
  neo4j: {
    port: port("STACK_NEO4J_PORT", DEFAULTS.neo4j.port),
    heapMb: env.int("STACK_NEO4J_HEAP_MB", 1024, 1, Number.MAX_SAFE_INTEGER),
    pageCacheMb: env.int("STACK_NEO4J_PAGECACHE_MB", 512, 1, Number.MAX_SAFE_INTEGER),
  },
  /** seconds to wait for a service to answer after starting it */
  startTimeoutS: env.int("STACK_START_TIMEOUT", 180, 1, Number.MAX_SAFE_INTEGER),
} as const;

if (env.problems.length > 0) throw new ConfigError(env.problems);

export type StackConfig = typeof config;
