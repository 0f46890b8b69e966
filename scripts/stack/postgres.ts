// PostgreSQL 15 from Debian, as the `postgres` system user (initdb refuses root), data in
// .stack/postgres/data. TCP on 127.0.0.1 only; the memory role logs in with a password
// (scram-sha-256), as it does against the postgres:15 image in compose.yaml.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serviceUrls } from "../../src/config.ts";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, isRoot, run, say, startDetached, userIds } from "./process.ts";
import { osUser, pgAsUser, pgBin as bin, pgReady, psqlAdmin, settingArgs, socketDir as socketDirOf } from "./pg-common.ts";
import { REPLICATION_USER } from "./replication.ts";

const cfg = config.postgres;
const dir = join(config.stackDir, "postgres");
const dataDir = join(dir, "data");
const socketDir = () => socketDirOf(dir, cfg.port);
const psql = (sql: string) => psqlAdmin(dir, cfg.port, sql);
// Unix socket: peer (the postgres OS user is the postgres role) when we run as root; when
// not root the cluster belongs to the invoking user and its socket folder is private (0700).
const pgHba = () => `# written by scripts/stack/postgres.ts (rewritten at every start)
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       all                      ${isRoot() ? "peer" : "trust"}
host    all       all       127.0.0.1/32   scram-sha-256
# the streaming standby (postgres-replica.ts) over loopback, as its own role
host    replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256
`;

export const postgres: Service = {
  name: "postgres",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port],
  pidFile: join(dir, "postgres.pid"),
  logFile: join(dir, "postgres.log"),
  match: "postgres",
  // SIGINT is PostgreSQL's "fast" shutdown (rolls back open transactions, checkpoints, exits);
  // SIGTERM would be "smart" shutdown, which waits for every client (API pools) to disconnect.
  stopSignal: "SIGINT",
  stopTimeoutMs: 60_000,
  startTimeoutMs: config.startTimeoutS * 1000,

  apt: () => [
    { pkg: "postgresql-15", present: () => existsSync(bin("postgres")) && existsSync(bin("initdb")) },
    { pkg: "postgresql-client-15", present: () => existsSync(bin("psql")) && existsSync(bin("pg_isready")) },
  ],

  async install() {
    const user = osUser();
    const ids = user ? userIds(user) : null;
    ensureDir(dir);
    // the data folder belongs to the postgres user and is private (initdb and postgres insist)
    ensureDir(dataDir, ids, 0o700);
    ensureDir(socketDir(), ids, isRoot() ? 0o755 : 0o700);
    if (user) {
      try {
        run("setpriv", [`--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", "test", "-w", dataDir]);
      } catch {
        throw new StackError(
          `the ${user} user cannot reach ${dataDir}: a parent folder of the repository is not searchable by other users (e.g. a checkout under /root). ` +
            `Clone the repository somewhere world-searchable, or point STACK_DIR at such a folder.`,
        );
      }
    }
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      say("postgres", `initdb ${dataDir}`);
      const c = pgAsUser(bin("initdb"), ["-D", dataDir, "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256"]);
      run(c.cmd, c.args, { cwd: "/" });
    }
    writeFileSync(join(dataDir, "pg_hba.conf"), pgHba());
    if (ids) run("chown", [`${ids.uid}:${ids.gid}`, join(dataDir, "pg_hba.conf")]);
  },

  async launch() {
    const settings: Record<string, string | number> = {
      listen_addresses: HOST,
      port: cfg.port,
      unix_socket_directories: socketDir(),
      fsync: "on",
      synchronous_commit: "on",
      max_connections: 200,
      shared_buffers: "256MB",
      password_encryption: "scram-sha-256",
      logging_collector: "off",
      log_line_prefix: "%m [%p] %q%u@%d ",
      log_min_duration_statement: 1000,
      // streaming replication to postgres-replica.ts; WAL kept for a standby that was stopped a
      // while (no replication slot: a standby that is gone for good must not fill the disk)
      wal_level: "replica",
      max_wal_senders: 10,
      wal_keep_size: "512MB",
    };
    const args = ["-D", dataDir, ...settingArgs(settings)];
    const c = pgAsUser(bin("postgres"), args);
    return startDetached({ cmd: c.cmd, args: c.args, cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: () => pgReady(cfg.port),

  /** the application role and database, created once (idempotent) */
  async afterReady() {
    const pw = cfg.password.replaceAll("'", "''");
    psql(`DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${cfg.user}') THEN
              CREATE ROLE "${cfg.user}" LOGIN CREATEDB PASSWORD '${pw}';
            END IF;
          END $$;`);
    if (psql(`SELECT 1 FROM pg_database WHERE datname = '${cfg.database}'`) !== "1") {
      psql(`CREATE DATABASE "${cfg.database}" OWNER "${cfg.user}"`);
      say("postgres", `created database ${cfg.database} owned by ${cfg.user}`);
    }
  },
};

export const postgresUrl = () => serviceUrls.postgres(HOST, cfg);
