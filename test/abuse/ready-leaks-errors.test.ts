/**
 * Attack (issue 18, item 6): /ready answered each dependency's raw state: driver errors naming
 * hosts, ports and users, and pool statistics. Now the body says only ready/unavailable per
 * dependency; the details go to the log (once per change).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createLogger } from "../../src/log";

const SECRET_DETAIL = "connect ECONNREFUSED 10.20.30.40:5432 (user memory_admin)";
const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    log: createLogger("info", (line) => lines.push(line)),
    extraHealthChecks: [
      { check: async () => ({ name: "warehouse", ready: false, detail: SECRET_DETAIL }) },
      { check: async () => ({ name: "pool", ready: true, detail: "pool 7/50 open, 3 idle, 0 waiting" }) },
      {
        check: async () => {
          throw new Error("getaddrinfo ENOTFOUND neo4j.internal.corp:7687");
        },
      },
    ],
  });
});
afterAll(() => t.close());

describe("/ready tells callers states, not internals", () => {
  test("a failing dependency is 'unavailable', with no error text, host or port", async () => {
    const reply = await t.call("GET", "/ready");
    expect(reply.status).toBe(503);
    expect(reply.text).not.toContain("10.20.30.40");
    expect(reply.text).not.toContain("memory_admin");
    expect(reply.text).not.toContain("neo4j.internal.corp");
    expect(reply.text).not.toContain("pool 7/50");
    const byName = Object.fromEntries((reply.body.dependencies as { name: string; ready: boolean; detail?: string }[]).map((d) => [d.name, d]));
    expect(byName.warehouse).toEqual({ name: "warehouse", ready: false, detail: "unavailable" });
    expect(byName.pool).toEqual({ name: "pool", ready: true, detail: "ok" });
  });

  test("the details are in the log, once while they do not change", async () => {
    await t.call("GET", "/ready");
    await t.call("GET", "/ready");
    const logged = lines.filter((l) => l.includes(SECRET_DETAIL));
    expect(logged.length).toBe(1);
    expect(lines.some((l) => l.includes("neo4j.internal.corp"))).toBe(true);
  });
});
