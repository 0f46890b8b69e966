/**
 * `bun run cluster`: N workers (CLUSTER_WORKERS, default the number of cores), each a process
 * running src/index.ts on its own loopback port (CLUSTER_BASE_PORT, default 8001, then +1…),
 * behind nginx. A worker binds its port only once it is warm (stores connected, Milvus loaded,
 * pool pre-filled, model run), so nginx never sends traffic to a cold one. A worker that dies
 * is restarted with backoff; SIGTERM/SIGINT drain every worker and then exit.
 */
import { availableParallelism } from "node:os";
import type { Subprocess } from "bun";
import { createLogger } from "./log";
import { ConfigError, loadConfig } from "./config";
import { resolveJwtSecret } from "./auth/secret";

let config;
try {
  config = loadConfig(); // the workers' settings too: a typo fails here, once, not N times
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const log = createLogger(config.logLevel).child({ component: "supervisor" });
// Resolved once here, so workers never race to generate different secrets (embedded mode).
const secret = resolveJwtSecret({ configured: config.jwtSecret, dataDir: config.dataDir });
if (secret.source === "generated") log.info("generated a JWT secret for the workers", { path: secret.path });

interface Worker {
  index: number;
  port: number;
  proc?: Subprocess;
  restarts: number;
  startedAt: number;
}

const entry = new URL("./index.ts", import.meta.url).pathname;
const workers: Worker[] = Array.from({ length: config.cluster.workers || availableParallelism() }, (_, index) => ({
  index,
  port: config.cluster.basePort + index,
  restarts: 0,
  startedAt: 0,
}));
let stopping = false;

function start(worker: Worker): void {
  worker.startedAt = Date.now();
  worker.proc = Bun.spawn([process.execPath, "run", entry], {
    env: { ...process.env, PORT: String(worker.port), WORKER_INDEX: String(worker.index), JWT_SECRET: secret.secret },
    stdout: "inherit",
    stderr: "inherit",
  });
  log.info("worker started", { worker: worker.index, port: worker.port, pid: worker.proc.pid });
  void worker.proc.exited.then((code) => {
    if (stopping) return;
    // A worker that lived a while gets restarted at once; one that keeps dying, with backoff.
    const lived = Date.now() - worker.startedAt;
    worker.restarts = lived > 30_000 ? 0 : worker.restarts + 1;
    const delay = Math.min(250 * 2 ** worker.restarts, 15_000);
    log.error("worker exited; restarting", { worker: worker.index, code, restart_in_ms: delay });
    setTimeout(() => !stopping && start(worker), delay);
  });
}

async function waitReady(): Promise<void> {
  const deadline = Date.now() + 180_000;
  const pending = new Set(workers);
  while (pending.size > 0 && Date.now() < deadline && !stopping) {
    for (const worker of [...pending]) {
      try {
        const response = await fetch(`http://127.0.0.1:${worker.port}/ready`);
        if (response.ok) {
          pending.delete(worker);
          log.info("worker ready", { worker: worker.index, port: worker.port });
        }
      } catch {
        // not listening yet: still warming up
      }
    }
    await Bun.sleep(250);
  }
  if (pending.size === 0) log.info(`all ${workers.length} workers ready`, { ports: workers.map((w) => w.port) });
  else log.warn("some workers are not ready yet", { workers: [...pending].map((w) => w.index) });
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("draining workers", { signal });
  for (const w of workers) w.proc?.kill("SIGTERM");
  const deadline = setTimeout(() => {
    log.warn("workers did not drain in 30 s; killing them");
    for (const w of workers) w.proc?.kill("SIGKILL");
  }, 30_000);
  await Promise.all(workers.map((w) => w.proc?.exited));
  clearTimeout(deadline);
  log.info("all workers stopped");
  process.exit(0);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
for (const worker of workers) start(worker);
await waitReady();
