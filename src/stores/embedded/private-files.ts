import { chmodSync, closeSync, lstatSync, mkdirSync, openSync } from "node:fs";

/**
 * Data folders and database files readable by their owner only (0700 / 0600), whatever the
 * umask: they hold every tenant's memories, the revocation list and the JWT secret.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask, and an existing folder keeps its own
  if ((lstatSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Creates `path` as an empty 0600 file when absent (SQLite then gives its -wal/-shm files the same mode). */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  if ((lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}
