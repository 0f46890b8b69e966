/**
 * `src/index.ts` as a real process on a free port (embedded with a fresh DATA_DIR, or production
 * on the running services with TEST_BACKEND=production, in a PostgreSQL database of its own,
 * dropped afterwards), for attacks that only exist over real HTTP (the HTTP server's own
 * limits). Tokens are signed with the secret it is given.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenService } from "../../src/auth/tokens";
import type { Tier } from "../../src/auth/claims";
import { productionConfig } from "../support/services";

const SECRET = "abuse-tests-secret-of-at-least-thirty-two-characters";

export interface RealServer {
  base: string;
  token(sub: string, tier?: Tier): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export async function startRealServer(env: Record<string, string> = {}): Promise<RealServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "memory-api-abuse-"));
  const port = freePort();
  const production = process.env.TEST_BACKEND === "production";
  const database = production ? await createDatabase() : undefined;
  const proc = Bun.spawn([process.execPath, "run", "src/index.ts"], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: "info",
      MEMORY_MODE: production ? "production" : "embedded",
      JWT_SECRET: SECRET,
      RATE_LIMITS_ENABLED: "false",
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = proc.stderr.getReader();
  let log = "";
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !log.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) break;
    log += new TextDecoder().decode(value);
  }
  // keep draining stderr so the server never blocks on a full pipe
  void (async () => {
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
    }
  })();
  if (!log.includes("listening on")) {
    proc.kill();
    await proc.exited;
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`server did not start:\n${log}`);
  }
  const tokens = createTokenService(SECRET);
  return {
    base: `http://127.0.0.1:${port}`,
    token: (sub, tier = "free") => tokens.sign({ sub, tier, ttlSeconds: 3600 }),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

/** A fresh database on the test PostgreSQL server: the server migrates it as it would a new deployment. */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import("pg");
  const name = `abuse_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: productionConfig.databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(productionConfig.databaseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
