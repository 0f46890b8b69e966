// A streaming physical standby of the stack's PostgreSQL (hot standby: read-only queries),
// made once with `pg_basebackup -R` from the running primary, data in
// .stack/postgres-replica/data, on STACK_POSTGRES_REPLICA_PORT (5433). Same binaries and OS
// user as the primary (pg-common.ts); it logs in to the primary as the replication role
// (replication.ts) over loopback. The API reads from it what tolerates lag (docs/production.md,
// Read replicas); `stack env` exports it as DATABASE_REPLICA_URLS.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { serviceUrls } from "../../src/config.ts";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, isRoot, run, say, sleep, startDetached, userIds } from "./process.ts";
import { osUser, pgAsUser, pgBin, pgReady, psqlAdmin, settingArgs, socketDir } from "./pg-common.ts";
import { REPLICATION_USER, replicationPassword } from "./replication.ts";

const cfg = config.postgresReplica;
const primary = config.postgres;
const primaryDir = join(config.stackDir, "postgres");
const dir = join(config.stackDir, "postgres-replica");
const dataDir = join(dir, "data");

/**
 * `stack up` starts every service side by side: the base backup waits until the primary
 * answers with the application's database, then makes sure of the replication role there
 * (this module's, created once).
 */
async function preparePrimary(timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  // ready, with the application's database (the primary's afterReady makes it, with its role)
  const hasDatabase = () => {
    try {
      return psqlAdmin(primaryDir, primary.port, `SELECT 1 FROM pg_database WHERE datname = '${primary.database}'`) === "1";
    } catch {
      return false; // still starting
    }
  };
  while (!((await pgReady(primary.port)) && hasDatabase())) {
    if (Date.now() > until) throw new StackError(`the primary (${HOST}:${primary.port}) is not up with database ${primary.database}: start it first (stack up postgres)`);
    await sleep(500);
  }
  const password = replicationPassword().replaceAll("'", "''");
  psqlAdmin(primaryDir, primary.port, `DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${REPLICATION_USER}') THEN
        CREATE ROLE "${REPLICATION_USER}" LOGIN REPLICATION PASSWORD '${password}';
      ELSE
        ALTER ROLE "${REPLICATION_USER}" LOGIN REPLICATION PASSWORD '${password}';
      END IF;
    END $$;`);
  // The replica tests pause and resume WAL replay on the standby as the application role
  // (test/stores/postgres/replica.test.ts); a grant on the primary reaches the standby. Only
  // this development stack grants it: a deployment need not. (A function's grants belong to
  // its database: this one is the application's.)
  psqlAdmin(primaryDir, primary.port, `GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO "${primary.user}"`, primary.database);
}

export const postgresReplica: Service = {
  name: "postgres-replica",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port],
  pidFile: join(dir, "postgres.pid"),
  logFile: join(dir, "postgres.log"),
  match: "postgres",
  stopSignal: "SIGINT", // fast shutdown, as the primary
  stopTimeoutMs: 60_000,
  startTimeoutMs: config.startTimeoutS * 1000,

  apt: () => [
    { pkg: "postgresql-15", present: () => existsSync(pgBin("postgres")) },
    { pkg: "postgresql-client-15", present: () => existsSync(pgBin("pg_basebackup")) && existsSync(pgBin("pg_isready")) },
  ],

  async install() {
    const user = osUser();
    const ids = user ? userIds(user) : null;
    ensureDir(dir);
    ensureDir(socketDir(dir, cfg.port), ids, isRoot() ? 0o755 : 0o700);
    if (existsSync(join(dataDir, "PG_VERSION"))) return;
    await preparePrimary(this.startTimeoutMs);
    ensureDir(dataDir, ids, 0o700);
    say(this.name, `pg_basebackup from ${HOST}:${primary.port} into ${dataDir}`);
    // -R writes standby.signal and primary_conninfo (with this password) into the copy;
    // -X stream copies the WAL written meanwhile; -c fast checkpoints at once
    const c = pgAsUser(pgBin("pg_basebackup"), ["-h", HOST, "-p", String(primary.port), "-U", REPLICATION_USER, "-D", dataDir, "-R", "-X", "stream", "-c", "fast", "--no-password"]);
    try {
      run(c.cmd, c.args, { cwd: "/", env: { ...process.env, PGPASSWORD: replicationPassword() } });
    } catch (e) {
      // an incomplete copy would never start: the next `up` starts over
      run("rm", ["-rf", dataDir]);
      const hint = "a primary started before replication was set up needs a restart first (stack restart postgres)";
      throw new StackError(`${e instanceof Error ? e.message : String(e)}\n${hint}`);
    }
  },

  async launch() {
    const settings: Record<string, string | number> = {
      listen_addresses: HOST,
      port: cfg.port,
      unix_socket_directories: socketDir(dir, cfg.port),
      hot_standby: "on",
      // the standby tells the primary which rows its queries still read, so VACUUM on the
      // primary does not cancel them (a little bloat on the primary instead)
      hot_standby_feedback: "on",
      // a standby must allow at least as many connections as its primary
      max_connections: 200,
      shared_buffers: "128MB",
      logging_collector: "off",
      log_line_prefix: "%m [%p] %q%u@%d ",
      log_min_duration_statement: 1000,
    };
    const c = pgAsUser(pgBin("postgres"), ["-D", dataDir, ...settingArgs(settings)]);
    return startDetached({ cmd: c.cmd, args: c.args, cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: () => pgReady(cfg.port),
};

/** The standby's URL for the API: the primary's role and database, the standby's port. */
export const postgresReplicaUrl = () => serviceUrls.postgres(HOST, { ...primary, port: cfg.port });
