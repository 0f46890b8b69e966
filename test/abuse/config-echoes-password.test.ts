/**
 * Attack (issue 18, item 9): an invalid DATABASE_URL (or REDIS_URL, NEO4J_URI) was echoed
 * whole in the start-up error, password included, into logs that many can read. Now the
 * variable is named and the URL shown with its credentials masked.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadConfig, redactCredentials } from "../../src/config";

const PASSWORD = "s3cret-Pa55word";
const BAD = {
  DATABASE_URL: `postgres://memory:${PASSWORD}@db.internal:notaport/memory`,
  REDIS_URL: `redis://:${PASSWORD}@[cache.internal:6379`,
  NEO4J_URI: `bolt://neo4j:${PASSWORD}@graph internal:7687`,
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("loadConfig accepted an invalid URL");
}

describe("an invalid connection URL is named, never echoed with its password", () => {
  test.each(Object.entries(BAD))("%s", (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toContain(name);
    expect(message).not.toContain(PASSWORD);
    expect(message).toContain("***@");
  });

  test("the server refuses to start with the variable named and the password absent from its output", () => {
    const proc = Bun.spawnSync([process.execPath, "run", "src/index.ts"], {
      cwd: resolve(import.meta.dir, "../.."),
      env: { PATH: process.env.PATH ?? "", MEMORY_MODE: "production", JWT_SECRET: "x".repeat(40), DATABASE_URL: BAD.DATABASE_URL },
    });
    const output = proc.stdout.toString() + proc.stderr.toString();
    expect(proc.exitCode).toBe(2);
    expect(output).toContain("DATABASE_URL is not a valid URL");
    expect(output).not.toContain(PASSWORD);
  });

  test("masking keeps what helps (scheme, host, port) and drops the credentials", () => {
    expect(redactCredentials("postgres://u:p@h:5432/db")).toBe("postgres://***@h:5432/db");
    expect(redactCredentials("redis://h:6379")).toBe("redis://h:6379");
    expect(redactCredentials("postgres:memory:pw@h/db")).toBe("postgres:***@h/db"); // no // either
  });
});
