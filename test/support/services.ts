/**
 * Whether the suites against the real services (PostgreSQL, Redis, Milvus, Neo4j) run.
 * MEMORY_TEST_PRODUCTION=required (what .ci/run sets): they run, and an unreachable service
 * fails the run. Unset: they run when the services answer, and are skipped with a notice
 * otherwise (start them with `bun run stack up`). MEMORY_TEST_PRODUCTION=off: skipped.
 */
import { connect } from "node:net";
import { DEFAULTS, loadConfig, serviceUrls } from "../../src/config";
import { redisTopologiesIn, type StackRedisTopologies } from "../../scripts/stack/connections.ts";

export type Service = "postgres" | "postgres-replica" | "redis" | "milvus" | "neo4j" | "redis-cluster" | "redis-sentinel";

const config = loadConfig({ ...process.env, MEMORY_MODE: "embedded" });

/**
 * Where the stack's Redis Cluster and Sentinel are: the STACK_REDIS_* variables where set (`bun
 * run test` sets them), else the stack's own settings.
 */
export const redisTopologyEnv = (): StackRedisTopologies => redisTopologiesIn(process.env);

/**
 * The hot standby the replica suites read from: the first of DATABASE_REPLICA_URLS (what
 * `stack env` and the test runner set), else where the stack's postgres-replica listens.
 */
export const replicaUrl =
  config.production.databaseReplicaUrls[0] ?? serviceUrls.postgres(DEFAULTS.host, { ...DEFAULTS.postgres, port: DEFAULTS.postgresReplica.port });

function address(service: Service): { host: string; port: number } {
  const p = config.production;
  const parse = (raw: string, fallbackPort: number) => {
    const url = new URL(raw.includes("://") ? raw : `tcp://${raw}`);
    return { host: url.hostname, port: Number(url.port || fallbackPort) };
  };
  switch (service) {
    case "postgres":
      return parse(p.databaseUrl, 5432);
    case "postgres-replica":
      return parse(replicaUrl, 5432);
    case "redis":
      return parse(p.redisUrl, 6379);
    case "milvus":
      return parse(p.milvusAddress, 19530);
    case "neo4j":
      return parse(p.neo4jUri, 7687);
    case "redis-cluster":
      return parse(redisTopologyEnv().STACK_REDIS_CLUSTER_NODES.split(",")[0]!, 7001);
    case "redis-sentinel":
      return parse(redisTopologyEnv().STACK_REDIS_SENTINELS.split(",")[0]!, 26379);
  }
}

function reachable({ host, port }: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** True when the suite should run; throws when the services are required but down. */
export async function servicesAvailable(suite: string, services: Service[]): Promise<boolean> {
  const mode = process.env.MEMORY_TEST_PRODUCTION ?? "auto";
  if (mode === "off") return false;
  const down: string[] = [];
  for (const service of services) {
    const where = address(service);
    if (!(await reachable(where))) down.push(`${service} (${where.host}:${where.port})`);
  }
  if (down.length === 0) return true;
  const message = `${suite}: ${down.join(", ")} not reachable`;
  if (mode === "required") throw new Error(`${message}; MEMORY_TEST_PRODUCTION=required (start them with \`bun run stack up\`)`);
  console.warn(`SKIPPED ${message}. Start the real services with \`bun run stack up\` to run it.`);
  return false;
}

export const productionConfig = config.production;
