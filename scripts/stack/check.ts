// `stack check`: exercise each running service through the client the API uses, with the
// features the API relies on. Leaves nothing behind (its objects are dropped at the end).
import { MilvusClient, DataType } from "@zilliz/milvus2-sdk-node";
import Redis from "ioredis";
import neo4jDriver from "neo4j-driver";
import pg from "pg";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import { milvusAddress } from "./milvus.ts";
import { kafka, kafkaBrokers } from "./kafka.ts";
import { neo4jUri } from "./neo4j.ts";
import { postgresUrl } from "./postgres.ts";
import { postgresReplicaUrl } from "./postgres-replica.ts";
import { green, red, say } from "./process.ts";
import { redisUrl } from "./redis.ts";

type Check = () => Promise<string>;

const checks: Record<string, Check> = {
  async postgres() {
    const c = new pg.Client({ connectionString: postgresUrl() });
    await c.connect();
    try {
      const v = await c.query("SHOW server_version");
      const fsync = await c.query("SHOW fsync");
      await c.query("CREATE TEMP TABLE stack_check (body text, tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)");
      await c.query("INSERT INTO stack_check (body) VALUES ('Bun runs TypeScript quickly'), ('Milvus stores vectors')");
      const fts = await c.query("SELECT body FROM stack_check WHERE tsv @@ websearch_to_tsquery('english', 'vector')");
      if (fts.rowCount !== 1) throw new Error("full-text search returned the wrong rows");
      return `PostgreSQL ${v.rows[0].server_version}, fsync=${fsync.rows[0].fsync}, FTS ok, as ${config.postgres.user}`;
    } finally {
      await c.end();
    }
  },

  /** a hot standby in recovery that has replayed the primary's WAL up to where it is now */
  async "postgres-replica"() {
    const primary = new pg.Client({ connectionString: postgresUrl() });
    const standby = new pg.Client({ connectionString: postgresReplicaUrl() });
    await primary.connect();
    try {
      await standby.connect();
      const recovery = await standby.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
      if (!recovery.rows[0]!.r) throw new Error("it is not in recovery: not a standby");
      const lsn = (await primary.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
      const t0 = Date.now();
      for (;;) {
        const { rows } = await standby.query<{ caught: boolean; replayed: string }>(
          "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught, pg_last_wal_replay_lsn()::text AS replayed",
          [lsn],
        );
        if (rows[0]!.caught) return `hot standby of ${config.postgres.port}, replayed the primary's ${lsn} after ${Date.now() - t0} ms, as ${config.postgres.user}`;
        if (Date.now() - t0 > 10_000) throw new Error(`replayed ${rows[0]!.replayed}, the primary is at ${lsn} (10 s later)`);
        await Bun.sleep(100);
      }
    } finally {
      await Promise.all([primary.end(), standby.end().catch(() => {})]);
    }
  },

  async redis() {
    const r = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      const info = await r.info("server");
      await r.set("stack:check", "1", "EX", 5);
      const got = await r.get("stack:check");
      await r.del("stack:check");
      if (got !== "1") throw new Error("SET/GET mismatch");
      return `Redis ${/redis_version:(\S+)/.exec(info)?.[1]}, SET/GET ok`;
    } finally {
      r.disconnect();
    }
  },

  async milvus() {
    const c = new MilvusClient({ address: milvusAddress() });
    const name = `stack_check_${Date.now()}`;
    const dim = 384;
    const vec = (i: number) => Array.from({ length: dim }, (_, j) => Math.sin(i * 31 + j));
    try {
      const version = (await c.getVersion()).version;
      const ok = (r: { error_code?: string | number; reason?: string }, what: string) => {
        if (r.error_code !== "Success") throw new Error(`${what}: ${r.reason}`);
      };
      ok(
        await c.createCollection({
          collection_name: name,
          fields: [
            { name: "id", data_type: DataType.VarChar, is_primary_key: true, max_length: 64 },
            { name: "collection_id", data_type: DataType.VarChar, is_partition_key: true, max_length: 64 },
            { name: "metadata", data_type: DataType.JSON },
            { name: "embedding", data_type: DataType.FloatVector, dim },
          ],
          num_partitions: 16,
        }),
        "createCollection",
      );
      ok(await c.createIndex({ collection_name: name, field_name: "embedding", index_type: "HNSW", metric_type: "COSINE", params: { M: 16, efConstruction: 64 } }), "createIndex");
      ok(await c.loadCollectionSync({ collection_name: name }), "load");
      const data = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, collection_id: `c${i % 2}`, metadata: { tag: i % 4 < 2 ? "x" : "y" }, embedding: vec(i) }));
      const ins = await c.insert({ collection_name: name, data });
      ok(ins.status, "insert");
      const s = await c.search({
        collection_name: name,
        vector: vec(5),
        limit: 3,
        filter: `collection_id == "c1" && metadata["tag"] == "x"`,
        output_fields: ["id", "collection_id", "metadata"],
        params: { ef: 32 },
        consistency_level: "Strong" as never,
      });
      ok(s.status, "search");
      if (s.results[0]?.id !== "m5" || !s.results.every((r) => r.collection_id === "c1" && (r.metadata as { tag: string }).tag === "x")) {
        throw new Error(`search with partition-key + JSON filter returned ${JSON.stringify(s.results.map((r) => r.id))}`);
      }
      ok((await c.delete({ collection_name: name, ids: ["m5"] })).status, "delete");
      const q = await c.query({ collection_name: name, filter: `collection_id == "c1"`, output_fields: ["count(*)"], consistency_level: "Strong" as never });
      const count = Number(q.data[0]?.["count(*)"]);
      if (count !== 9) throw new Error(`count(*) after delete = ${count}, expected 9`);
      return `Milvus ${version}: partition key, JSON filter, HNSW/COSINE search, delete, count(*) ok`;
    } finally {
      await c.dropCollection({ collection_name: name }).catch(() => {});
      await c.closeConnection();
    }
  },

  /** Kafka answers as a broker and holds the topics of Milvus' channels */
  async kafka() {
    if (!(await kafka.probe())) throw new Error(`no Kafka ApiVersions answer on ${kafkaBrokers()}`);
    const topics = new Set(
      readdirSync(join(config.stackDir, "kafka", "data"))
        .map((d) => /^(.+)-\d+$/.exec(d)?.[1])
        .filter((t): t is string => t !== undefined && !t.startsWith("__")),
    );
    return `Kafka ${config.kafka.version} (KRaft) at ${kafkaBrokers()}: ${topics.size} topics`;
  },

  /** a collection loads with two replicas, one on the standalone's query node and one on this */
  async "milvus-querynode"() {
    const c = new MilvusClient({ address: milvusAddress() });
    const name = `stack_check_replicas_${Date.now()}`;
    try {
      await c.createCollection({
        collection_name: name,
        fields: [
          { name: "id", data_type: DataType.Int64, is_primary_key: true },
          { name: "v", data_type: DataType.FloatVector, dim: 2 },
        ],
      });
      await c.createIndex({ collection_name: name, field_name: "v", index_type: "FLAT", metric_type: "L2" });
      const load = await c.loadCollectionSync({ collection_name: name, replica_number: 2 });
      if (load.error_code !== "Success") throw new Error(`load with 2 replicas: ${load.reason}`);
      const { collectionID } = await c.describeCollection({ collection_name: name });
      const nodes = (await c.getReplicas({ collectionID })).replicas.map((r) => r.node_ids.join(","));
      if (nodes.length !== 2 || nodes[0] === nodes[1]) throw new Error(`replicas on query nodes ${JSON.stringify(nodes)}`);
      return `two replicas on query nodes ${nodes.join(" and ")}`;
    } finally {
      await c.dropCollection({ collection_name: name }).catch(() => {});
      await c.closeConnection();
    }
  },

  async neo4j() {
    const d = neo4jDriver.driver(neo4jUri(), neo4jDriver.auth.basic("neo4j", "ignored-auth-disabled"));
    const s = d.session();
    try {
      const info = await d.getServerInfo();
      const one = await s.run("RETURN 1 AS x");
      if (one.records[0]?.get("x").toNumber() !== 1) throw new Error("RETURN 1 failed");
      await s.run("CREATE CONSTRAINT stack_check_id IF NOT EXISTS FOR (n:StackCheck) REQUIRE n.id IS UNIQUE");
      await s.run("MERGE (n:StackCheck {id: 'a'}) RETURN n");
      await s.run("MERGE (n:StackCheck {id: 'a'}) RETURN n");
      const n = await s.run("MATCH (n:StackCheck) RETURN count(n) AS c");
      if (n.records[0]?.get("c").toNumber() !== 1) throw new Error("MERGE created a duplicate");
      return `${info.agent} (Bolt ${info.protocolVersion}): RETURN 1, uniqueness constraint, MERGE ok`;
    } finally {
      await s.run("MATCH (n:StackCheck) DELETE n").catch(() => {});
      await s.run("DROP CONSTRAINT stack_check_id IF EXISTS").catch(() => {});
      await s.close();
      await d.close();
    }
  },

  async nginx() {
    const base = `http://${HOST}:${config.nginx.port}`;
    const h = await fetch(`${base}/nginx-health`);
    if (h.status !== 200) throw new Error(`/nginx-health answered ${h.status}`);
    const api = await fetch(`${base}/health`, { headers: { "x-request-id": "stack-check-1" } });
    const rid = api.headers.get("x-request-id");
    if (rid !== "stack-check-1") throw new Error(`X-Request-Id not passed back (got ${rid})`);
    const gen = (await fetch(`${base}/health`)).headers.get("x-request-id");
    if (!gen || !/^[0-9a-f]{32}$/.test(gen)) throw new Error(`no generated X-Request-Id (got ${gen})`);
    return `/nginx-health 200; API /health through nginx: ${api.status}${api.status === 503 ? " (no worker running, or all at capacity)" : ""}; X-Request-Id kept and generated`;
  },
};

export async function check(names: string[]): Promise<boolean> {
  let ok = true;
  for (const name of names) {
    const t0 = Date.now();
    try {
      const msg = await checks[name]!();
      say(name, `${green("ok")} ${msg} (${Date.now() - t0} ms)`);
    } catch (e) {
      ok = false;
      say(name, `${red("FAILED")} ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return ok;
}
