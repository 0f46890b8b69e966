import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./log";
import { buildApp } from "./app";
import { resolveJwtSecret } from "./auth/secret";
import { openEmbeddedRuntime, type Runtime } from "./runtime/embedded";
import { SERVER_BODY_LIMIT } from "./http/body";
import { startSweepers } from "./maintenance/sweepers";
import { WebhookDispatcher } from "./webhooks/dispatcher";
import { sendDelivery } from "./webhooks/sender";

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let secret;
  try {
    secret = resolveJwtSecret({ configured: config.jwtSecret, dataDir: config.dataDir });
  } catch (error) {
    console.error(`JWT secret: ${(error as Error).message}`);
    process.exit(2);
  }
  if (secret.source === "generated") {
    log.info("JWT_SECRET is not set: generated one and saved it; mint tokens with `bun run token`", {
      path: secret.path,
    });
  } else if (secret.source === "file") {
    log.info("using the JWT secret saved under DATA_DIR", { path: secret.path });
  }

  log.info("loading the embedding model and opening the stores", { mode: config.mode });
  let runtime: Runtime;
  try {
    runtime =
      config.mode === "production"
        ? // loaded only when needed: the embedded mode never pays for the gRPC and Bolt drivers
          await (await import("./runtime/production")).openProductionRuntime(config, log, secret.secret)
        : await openEmbeddedRuntime(config, log, secret.secret);
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? { cause: String(error.cause) } : {};
    log.error("could not start", { error: String(error), ...cause });
    process.exit(1);
  }
  const app = buildApp(runtime.deps);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      // the app enforces MAX_BODY_BYTES with a problem+json 413 (src/http/body.ts)
      maxRequestBodySize: SERVER_BODY_LIMIT,
      fetch: (request) => app.handle(request),
    });
  } catch (error) {
    const inUse = (error as { code?: string }).code === "EADDRINUSE";
    log.error(
      inUse
        ? `${config.host}:${config.port} is already in use; set PORT to a free port`
        : `could not listen on ${config.host}:${config.port}`,
      { error: String(error) },
    );
    await runtime.close();
    process.exit(1);
  }
  log.info(`Memory API listening on http://${config.host}:${server.port}`, { mode: config.mode });
  // Expired memories purged, history pruned to its retention: idempotent, so every worker runs them.
  const sweepers = startSweepers({
    expiry: runtime.expiry,
    history: runtime.deps.history,
    webhooks: runtime.deps.webhooks?.store,
    log,
    settings: {
      webhookDeliveryRetentionDays: config.webhooks.deliveryRetentionDays,
      expirySweepIntervalSeconds: config.expiry.sweepIntervalSeconds,
      historyRetentionDays: config.history.retentionDays,
      historyPruneIntervalSeconds: config.history.pruneIntervalSeconds,
    },
  });
  // Webhooks follow the change log; every worker runs a dispatcher (each webhook is leased to one at a time).
  const webhooks = runtime.deps.webhooks;
  const dispatcher =
    webhooks && runtime.deps.history
      ? new WebhookDispatcher({
          store: webhooks.store,
          history: runtime.deps.history,
          send: (request) => sendDelivery(request, { policy: webhooks.policy, timeoutMs: webhooks.timeoutMs }),
          log: log.child({ component: "webhooks" }),
          settings: {
            pollMs: config.webhooks.pollMs,
            batchSize: config.webhooks.batchSize,
            maxBodyBytes: 1024 * 1024,
            maxAttempts: config.webhooks.maxAttempts,
            retryBaseMs: config.webhooks.retryBaseMs,
            retryMaxMs: config.webhooks.retryMaxMs,
            concurrency: 8,
            timeoutMs: config.webhooks.timeoutMs,
          },
        }).start()
      : undefined;
  if (dispatcher) app.metrics.setSources({ webhooks: () => dispatcher.counters });
  // In the background: the most searched collections' popular answers, recomputed or pulled
  // from the shared cache into this worker's first level.
  void app.pipeline.prewarmer.warmStart(config.cachePolicy.prewarmCollectionsAtStart).then(
    (warmed) => warmed.searches > 0 && log.info("pre-warmed popular searches", warmed),
    (error) => log.warn("pre-warming at start failed", { error: String(error) }),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down: draining in-flight requests", { signal });
    await server.stop(false);
    await sweepers.stop();
    await dispatcher?.stop();
    await runtime.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

await main();
