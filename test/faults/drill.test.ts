/**
 * The fault drill (scripts/fault-drill.ts) under load, against the real services: Redis, Milvus,
 * Neo4j and PostgreSQL each stopped and started again while writers and searchers keep going;
 * afterwards every acknowledged write must be in PostgreSQL, Milvus and Neo4j. Production
 * backend only (the second pass of `npm test`).
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendName } from "../support/backend";

test.if(backendName() === "production")(
  "fault drill: searches survive Redis, writes survive Milvus and Neo4j, PostgreSQL refuses with 503 and recovers; nothing acknowledged is lost",
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), "drill-")), "drill.json");
    const proc = Bun.spawn([process.execPath, "run", "scripts/fault-drill.ts", "--outage-seconds", "6", "--out", out, "--no-oha"], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const printed = await new Response(proc.stdout).text();
    const code = await proc.exited;
    process.stderr.write(printed);
    const report = JSON.parse(readFileSync(out, "utf8")) as {
      acknowledged_writes: number;
      lost: Record<string, number>;
      problems: string[];
      phases: { name: string; writes: { statuses: Record<string, number> } }[];
    };
    expect(report.problems).toEqual([]);
    expect(report.lost).toEqual({ postgres: 0, milvus: 0, neo4j: 0 });
    expect(report.acknowledged_writes).toBeGreaterThan(20);
    // the outage really happened: PostgreSQL down refused writes with 503
    expect(report.phases.find((p) => p.name === "postgres down")!.writes.statuses["503"]).toBeGreaterThan(0);
    expect(code).toBe(0);
  },
  600_000,
);
