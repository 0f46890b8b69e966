/**
 * Attack (issue 18, item 9): an existing DATA_DIR/jwt-secret was read whatever it was: a symlink
 * planted by another user (pointing at a secret they chose, or at a file they can read), or a
 * file readable by everyone, so anyone on the host could mint tokens. Now such a file is refused
 * with a message that says what to do, by the server and by `bun run token` alike.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { resolveJwtSecret } from "../../src/auth/secret";

const SECRET = "a-saved-secret-that-is-long-enough-0123456789";
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "jwt-secret-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const resolveIn = (dir: string) => () => resolveJwtSecret({ configured: undefined, dataDir: dir });

describe("a saved JWT secret is read only from a private regular file", () => {
  test("a 0600 file is used", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "jwt-secret"), SECRET + "\n", { mode: 0o600 });
    expect(resolveIn(dir)()).toMatchObject({ secret: SECRET, source: "file" });
  });

  test("a file readable by others is refused, with the chmod to run", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "jwt-secret"), SECRET + "\n");
    chmodSync(join(dir, "jwt-secret"), 0o644);
    expect(resolveIn(dir)).toThrow(/accessible by group or others \(mode 0644\).*chmod 600/);
  });

  test("a symlink is refused, even to a private file", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "elsewhere"), SECRET + "\n", { mode: 0o600 });
    symlinkSync(join(dir, "elsewhere"), join(dir, "jwt-secret"));
    expect(resolveIn(dir)).toThrow(/symbolic link/);
  });

  test("a dangling symlink is refused, not written through", () => {
    const dir = dataDir();
    symlinkSync(join(dir, "planted-target"), join(dir, "jwt-secret"));
    expect(resolveIn(dir)).toThrow(/symbolic link/);
  });

  test("bun run token refuses it too, with the message and no stack trace", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "jwt-secret"), SECRET + "\n");
    chmodSync(join(dir, "jwt-secret"), 0o640);
    const proc = Bun.spawnSync([process.execPath, "run", "scripts/token.ts", "--sub", "x"], {
      cwd: resolve(import.meta.dir, "../.."),
      env: { PATH: process.env.PATH ?? "", DATA_DIR: dir },
    });
    expect(proc.exitCode).toBe(2);
    expect(proc.stdout.toString()).toBe("");
    expect(proc.stderr.toString()).toContain("chmod 600");
  });
});
