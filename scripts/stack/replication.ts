// The role the streaming standby logs in to the primary as. Its password is
// STACK_POSTGRES_REPLICATION_PASSWORD, or one generated at the first start and kept in
// .stack/postgres/replication-password (0600), as the Redis password is.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "./config.ts";
import { ensureDir } from "./process.ts";

export const REPLICATION_USER = "replicator";

const dir = join(config.stackDir, "postgres");
const passwordFile = join(dir, "replication-password");

export function replicationPassword(): string {
  if (config.postgresReplica.replicationPassword) return config.postgresReplica.replicationPassword;
  if (existsSync(passwordFile)) {
    const saved = readFileSync(passwordFile, "utf8").trim();
    if (saved) return saved;
  }
  ensureDir(dir);
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
  writeFileSync(passwordFile, generated + "\n", { mode: 0o600 });
  return generated;
}
