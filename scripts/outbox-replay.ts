/**
 * `bun run outbox:replay`: puts the outbox's dead letters (rows set aside after their own
 * delivery to Milvus or Neo4j kept failing; the `outbox_dead_letters` metric counts them) back
 * in the queue, so the running workers' dispatchers deliver them again. Fix the cause first (the
 * warning that dead-lettered a row names its target, collection, memory and error).
 *
 *   bun run outbox:replay [--target milvus|neo4j] [--collection ID] [--list]
 *
 * `--reindex` queues every memory again instead (all, or one collection's) for one derived index:
 * how a Milvus or Neo4j that lost its data is rebuilt from PostgreSQL while the service serves.
 *
 *   bun run outbox:replay --reindex --target milvus|neo4j [--collection ID]
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../src/config";
import { createLogger } from "../src/log";
import { PgPool } from "../src/stores/postgres/pool";
import { replayDeadLetters } from "../src/stores/postgres/outbox";
import { migrate } from "../src/stores/postgres/migrations";
import { queueReindex } from "../src/stores/postgres/reindex";

const USAGE = `usage: bun run outbox:replay [--target NAME] [--collection ID] [--list]
       bun run outbox:replay --reindex --target NAME [--collection ID]

Queues the outbox's dead-lettered rows again (production mode; DATABASE_URL as the server's).
  --target NAME      only rows of this derived index (milvus or neo4j)
  --collection ID    only rows of this collection
  --list             show the dead letters (target, collection, memory, failures, error) and change nothing
  --reindex          queue every memory (of --collection, or all) again for --target, which the
                     running workers then deliver: rebuilds an index that lost its data`;
const TARGETS = ["milvus", "neo4j"];

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { target: { type: "string" }, collection: { type: "string" }, list: { type: "boolean" }, reindex: { type: "boolean" }, help: { type: "boolean" } },
  strict: false,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const target = typeof values.target === "string" ? values.target : undefined;
const collection = typeof values.collection === "string" ? values.collection : undefined;
if (collection !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(collection)) {
  console.error(`--collection must be a collection id (a UUID), got "${collection}"\n\n${USAGE}`);
  process.exit(2);
}

if (values.reindex && (target === undefined || !TARGETS.includes(target))) {
  console.error(`--reindex needs --target ${TARGETS.join(" or ")}${target === undefined ? "" : `, got "${target}"`}\n\n${USAGE}`);
  process.exit(2);
}

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : String(error));
  process.exit(2);
}
const log = createLogger("warn");
const pool = new PgPool({ url: config.production.databaseUrl, log, poolSize: 1 });
try {
  await migrate(pool, log); // what a worker does at start (idempotent): the dead-letter columns exist
  if (values.reindex) {
    const started = Date.now();
    const n = await queueReindex(pool, target!, {
      collectionId: collection,
      onProgress: (queued) => console.log(`queued ${queued.toLocaleString("en-US")} memories for ${target} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    });
    console.log(
      n === 0
        ? "no memories to reindex"
        : `queued ${n.toLocaleString("en-US")} memor${n === 1 ? "y" : "ies"} for ${target}; the workers' dispatchers deliver them (progress: the outbox_backlog metric)`,
    );
  } else if (values.list) {
    const { rows } = await pool.query<{ target: string; collection_id: string; memory_id: string | null; failures: number; dead_at: string; last_error: string }>(
      `SELECT target, collection_id::text AS collection_id, memory_id, failures, dead_at::text AS dead_at, last_error FROM outbox
       WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR target = $1) AND ($2::uuid IS NULL OR collection_id = $2::uuid)
       ORDER BY dead_at, id LIMIT 1000`,
      [target ?? null, collection ?? null],
    );
    if (rows.length === 0) console.log("no dead letters");
    for (const r of rows) console.log(`${r.dead_at}  ${r.target}  ${r.collection_id}  ${r.memory_id ?? "(collection)"}  failures ${r.failures}  ${r.last_error}`);
  } else {
    const n = await replayDeadLetters(pool, { target, collectionId: collection });
    console.log(n === 0 ? "no dead letters to replay" : `queued ${n} dead-lettered row${n === 1 ? "" : "s"} again; the workers' dispatchers deliver them`);
  }
} catch (error) {
  console.error(`outbox:replay failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await pool.close();
}
