import { chmodSync, closeSync, lstatSync, mkdirSync, openSync } from "node:fs";

/**
 * Makes the data folder owner-only (0700), whatever the umask: it holds every tenant's
 * memories, the revocation list and the JWT secret. A folder this process does not own, or a
 * shared sticky one such as /tmp, is left alone; the answer says whether the folder is private.
 */
export function ensurePrivateDir(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if ((stat.mode & 0o077) === 0) return true;
  const ours = typeof process.getuid !== "function" || stat.uid === process.getuid();
  if (!ours || (stat.mode & 0o1000) !== 0) return false;
  chmodSync(dir, 0o700);
  return true;
}

/** Creates `path` as an empty 0600 file when absent (SQLite gives its -wal and -shm files the same mode). */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  if ((lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}
