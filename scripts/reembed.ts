/**
 * `bun run reembed`: re-embeds collections with the server's current embedding model, in
 * batches, while the server keeps serving them. It reads the server's configuration (the same
 * environment: MEMORY_MODE, DATA_DIR, EMBEDDING_MODEL_DIR, DATABASE_URL, ...) and works on the
 * stores directly, not through HTTP. A stopped or killed run continues where it stopped when run
 * again. See docs/models.md.
 *
 *   bun run reembed --collection ID [--collection ID2 ...] [--batch N] [--max-batches N] [--force]
 *   bun run reembed --all [--batch N]
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../src/config";
import { describeEmbeddingModel, modelKeyOf, sameVectorSpace } from "../src/domain/embedding-model";
import { NotFoundError } from "../src/domain/errors";
import { createLogger } from "../src/log";
import { reembedCollection, ReembedError, type ReembedProgress } from "../src/reembed/reembed";
import { openReembedRuntime } from "../src/runtime/reembed";

const USAGE = `usage: bun run reembed (--collection ID [--collection ID ...] | --all) [--batch N] [--max-batches N] [--force]

Re-embeds every memory of the collections with the embedding model the server is configured
with (EMBEDDING_MODEL_DIR), in batches, while the server keeps serving them. Run it again to
continue a run that was stopped. Options:
  --collection ID   a collection to re-embed (repeatable)
  --all             every collection whose recorded model differs from the configured one
  --batch N         memories embedded and committed together (default 64)
  --max-batches N   stop after N batches (continue later by running again)
  --force           re-embed even collections already recorded with the configured model`;

function positive(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    console.error(`--${name} must be a positive integer, got "${raw}"\n\n${USAGE}`);
    process.exit(2);
  }
  return Number(raw);
}

function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        collection: { type: "string", multiple: true },
        all: { type: "boolean", default: false },
        batch: { type: "string" },
        "max-batches": { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const ids = args.collection ?? [];
  if (ids.length === 0 && !args.all) {
    console.error(`give --collection ID or --all\n\n${USAGE}`);
    return 2;
  }
  if (ids.length > 0 && args.all) {
    console.error(`give either --collection or --all, not both\n\n${USAGE}`);
    return 2;
  }
  const batch = positive("batch", args.batch, 64)!;
  const maxBatches = positive("max-batches", args["max-batches"], undefined);

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  // Progress goes to stdout; the stores' own logs (warnings and errors only) to stderr.
  const log = createLogger(config.logLevel === "silent" ? "silent" : "warn");
  console.log(`loading ${config.embedding.modelDir} and opening the ${config.mode} stores ...`);
  let runtime;
  try {
    runtime = await openReembedRuntime(config, log);
  } catch (error) {
    console.error(`reembed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const target = modelKeyOf(runtime.embedder);
  console.log(`target model: ${describeEmbeddingModel(target)} (${target}); stores: ${runtime.where}`);

  const stop = new AbortController();
  const onSignal = () => {
    console.log("stopping after the batch under way (run again to continue) ...");
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let code = 0;
  try {
    const todo = args.all
      ? (await runtime.store.collections())
          .filter((c) => args.force || c.reembed_target !== null || !sameVectorSpace(c.embedding_model, target))
          .map((c) => c.id)
      : ids;
    if (args.all) console.log(`${todo.length} collection(s) to re-embed`);
    for (const id of todo) {
      // The first and the last state, and at most one line a second between them.
      let lastPrinted = Number.NEGATIVE_INFINITY;
      let printed = "";
      let unprinted: ReembedProgress | null = null;
      const print = (p: ReembedProgress) => {
        const percent = p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total);
        const line = `${id}: ${p.done}/${p.total} (${percent}%), ${p.rate.toFixed(1)} memories/s, ETA ${duration(p.etaSeconds)}`;
        if (line.slice(0, line.indexOf(",")) !== printed.slice(0, printed.indexOf(","))) console.log(line);
        printed = line;
        lastPrinted = performance.now();
        unprinted = null;
      };
      const onProgress = (p: ReembedProgress) => {
        if (performance.now() - lastPrinted >= 1000 || p.done >= p.total) print(p);
        else unprinted = p;
      };
      try {
        const outcome = await reembedCollection({ store: runtime.store, embedder: runtime.embedder, cache: runtime.cache }, id, {
          batch,
          maxBatches,
          force: args.force,
          signal: stop.signal,
          onProgress,
        });
        if (unprinted !== null) print(unprinted);
        const took = `${outcome.seconds.toFixed(1)} s`;
        if (outcome.status === "up_to_date") {
          console.log(`${id}: already embedded by ${describeEmbeddingModel(outcome.from)}; nothing to do (--force re-embeds it anyway)`);
        } else if (outcome.status === "stopped") {
          console.log(
            `${id}: stopped after ${outcome.batches} batch(es), ${outcome.reembedded} memories re-embedded in ${took}; ` +
              `run the same command again to continue (semantic search on it stays refused until it finishes)`,
          );
          code = code || 3;
          if (stop.signal.aborted) break;
        } else {
          console.log(
            `${id}: done, ${outcome.reembedded} of ${outcome.total} memories re-embedded in ${took}; ` +
              `now recorded as ${describeEmbeddingModel(outcome.to)} (was ${describeEmbeddingModel(outcome.from)})`,
          );
        }
      } catch (error) {
        if (error instanceof ReembedError || error instanceof NotFoundError) {
          console.error(`${id}: ${error.message}`);
          code = 1;
          continue;
        }
        throw error;
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await runtime.close();
  }
  return code;
}

process.exit(await main());
