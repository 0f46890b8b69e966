import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ResolvedSecret {
  secret: string;
  source: "env" | "file" | "generated";
  path?: string;
}

/**
 * Reads a saved secret only when it is a regular file of its own (not a symlink: O_NOFOLLOW, so
 * no swap between a check and the read) that group and others can neither read nor write.
 */
function readPrivateSecret(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as { code?: string }).code === "ELOOP") {
      throw new Error(`${path} is a symbolic link; refusing to read the JWT secret through it (make it a regular file with mode 0600)`);
    }
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file; refusing to read the JWT secret from it`);
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `${path} is accessible by group or others (mode 0${mode.toString(8)}); anyone who reads it can mint tokens: run chmod 600 ${path}`,
      );
    }
    return readFileSync(fd, "utf8").trim();
  } finally {
    closeSync(fd);
  }
}

/**
 * The HS256 secret: JWT_SECRET when set; otherwise (embedded mode) one generated on first
 * start and persisted under DATA_DIR so tokens survive restarts and `bun run token` agrees.
 */
export function resolveJwtSecret(opts: { configured: string | undefined; dataDir: string }): ResolvedSecret {
  if (opts.configured) return { secret: opts.configured, source: "env" };
  const path = join(opts.dataDir, "jwt-secret");
  // lstat, not exists: a link to nowhere must be refused too, not written through
  if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) {
    const secret = readPrivateSecret(path);
    if (secret.length < 32) throw new Error(`${path} holds a secret shorter than 32 characters; delete it to regenerate`);
    return { secret, source: "file", path };
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
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

