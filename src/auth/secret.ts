import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ResolvedSecret {
  secret: string;
  source: "env" | "file" | "generated";
  path?: string;
}

/**
 * The HS256 secret: JWT_SECRET when set; otherwise (embedded mode) one generated on first
 * start and persisted under DATA_DIR so tokens survive restarts and `bun run token` agrees.
 */
export function resolveJwtSecret(opts: { configured: string | undefined; dataDir: string }): ResolvedSecret {
  if (opts.configured) return { secret: opts.configured, source: "env" };
  const path = join(opts.dataDir, "jwt-secret");
  if (existsSync(path)) {
    const secret = readFileSync(path, "utf8").trim();
    if (secret.length < 32) throw new Error(`${path} holds a secret shorter than 32 characters; delete it to regenerate`);
    return { secret, source: "file", path };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  try {
    // exclusive create: of several processes starting at once, exactly one secret wins
    writeFileSync(path, secret + "\n", { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    return resolveJwtSecret(opts);
  }
  chmodSync(path, 0o600);
  return { secret, source: "generated", path };
}
