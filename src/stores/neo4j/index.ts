import neo4j, { type Driver } from "neo4j-driver";
import type { Logger } from "../../log.ts";
import type { GraphStore } from "../../ports/graph-store.ts";
import type { HealthCheck } from "../../ports/health-check.ts";
import type { IndexWriter } from "../../ports/index-writer.ts";
import { Neo4jGraphStore } from "./graph-store.ts";
import { translated } from "./errors.ts";
import { Neo4jHealthCheck } from "./health.ts";
import { ensureSchema } from "./schema.ts";
import { Neo4jIndexWriter } from "./writer.ts";

export interface Neo4jGraphOptions {
  /** bolt:// or neo4j:// URI (config: NEO4J_URI). */
  uri: string;
  /** Basic auth; none when unset (a server with auth disabled). */
  user?: string;
  password?: string;
  /** Most connections of this process (config: NEO4J_POOL_SIZE; default 50). */
  poolSize?: number;
  log: Logger;
  /** Bound on connecting and on waiting for a pooled connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Server-side bound on each transaction (default 10 s). */
  transactionTimeoutMs?: number;
  /** How long the driver retries a transaction after transient errors such as deadlocks (default 5 s). */
  retryTimeMs?: number;
}

export interface Neo4jGraph {
  /** The outbox target "neo4j". */
  writer: IndexWriter;
  /** The knowledge graph's read side (graph search, /entities). */
  graph: GraphStore;
  health: HealthCheck;
  /** Verifies connectivity and opens a few pooled connections before traffic. */
  warm(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
  /** The driver, for the graph search to come. */
  driver: Driver;
}

/**
 * Connects and creates the constraints and indexes (idempotent). Throws
 * DependencyUnavailableError("neo4j") when Neo4j cannot be reached within the connect timeout.
 */
export async function openNeo4jGraph(options: Neo4jGraphOptions): Promise<Neo4jGraph> {
  const log = options.log.child({ component: "neo4j" });
  const poolSize = options.poolSize ?? 50;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const transactionTimeoutMs = options.transactionTimeoutMs ?? 10_000;
  const retryTimeMs = options.retryTimeMs ?? 5000;
  const auth = options.user !== undefined ? neo4j.auth.basic(options.user, options.password ?? "") : undefined;
  const driver = neo4j.driver(options.uri, auth, {
    maxConnectionPoolSize: poolSize,
    connectionAcquisitionTimeout: connectTimeoutMs,
    connectionTimeout: connectTimeoutMs,
    maxTransactionRetryTime: retryTimeMs,
    disableLosslessIntegers: true,
    logging: {
      level: "warn",
      logger: (level, message) => (level === "error" ? log.error(message) : log.warn(message)),
    },
  });
  try {
    await ensureSchema(driver, log);
  } catch (error) {
    await driver.close().catch(() => {});
    throw error;
  }
  const state = { warmed: false };
  let closing: Promise<void> | undefined;
  return {
    writer: new Neo4jIndexWriter(driver, {
      transactionTimeoutMs,
      // one attempt, the retries, and a connection: past that the outbox tries again later
      callTimeoutMs: transactionTimeoutMs + retryTimeMs + connectTimeoutMs,
    }),
    graph: new Neo4jGraphStore(driver, { transactionTimeoutMs, callTimeoutMs: transactionTimeoutMs + connectTimeoutMs }),
    health: new Neo4jHealthCheck(driver, state),
    driver,
    async warm() {
      const started = performance.now();
      await translated(async () => {
        const info = await driver.getServerInfo();
        // A few connections in parallel, so the first writes do not each pay a handshake.
        await Promise.all(
          Array.from({ length: Math.min(poolSize, 4) }, async () => {
            const session = driver.session({ defaultAccessMode: "READ" });
            try {
              await session.run("RETURN 1");
            } finally {
              await session.close();
            }
          }),
        );
        log.info("neo4j connected and warm", { agent: info.agent, ms: Math.round(performance.now() - started), pool: poolSize });
      });
      state.warmed = true;
    },
    close() {
      closing ??= driver.close();
      return closing;
    },
  };
}
