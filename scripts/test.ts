/**
 * The whole test suite: every test file (the real-service suites run when the services answer,
 * or must when MEMORY_TEST_PRODUCTION=required), then the API suites a second time on the
 * production backend (PostgreSQL, Milvus, Neo4j, Redis), and the suites that use Redis once more
 * with the stack's Redis Cluster in its place. Extra arguments go to `bun test`.
 */
import { servicesAvailable } from "../test/support/services";
import { redisTopologiesIn, withStackConnections } from "./stack/connections.ts";

const API_SUITES = ["test/auth", "test/abuse", "test/http", "test/api", "test/routes", "test/search", "test/clients", "test/mcp", "test/e2e", "test/faults", "test/reembed"];
/** What the search cache, roll-forward, popularity, rate limits and revocations do through Redis. */
const REDIS_SUITES = [
  "test/search/search.test.ts",
  "test/search/popularity.test.ts",
  "test/search/roll-forward.test.ts",
  "test/search/degraded-cache.test.ts",
  "test/abuse/popularity-pollution.test.ts",
  "test/abuse/token-revocation.test.ts",
  "test/http/rate-limit.test.ts",
];
const totals = { pass: 0, fail: 0, skip: 0 };
/** Every failed test, by suite, repeated at the end: a CI log is often read from its tail. */
const failures: string[] = [];

async function runBunTest(label: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  console.log(`\n::: ${label}: bun test ${args.join(" ")}`);
  const proc = Bun.spawn([process.execPath, "test", "--timeout", "60000", ...args], {
    // the stack's connection settings (its Redis password among them) unless the caller set them
    env: withStackConnections({ ...process.env, ...env }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const pump = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      sink.write(text);
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^\s*(\d+) (pass|fail|skip)$/.exec(line);
        if (m) totals[m[2] as keyof typeof totals] += Number(m[1]);
        if (line.startsWith("(fail) ") && !failures.includes(`${label}: ${line}`)) failures.push(`${label}: ${line}`);
      }
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
  return proc.exited;
}

const extra = process.argv.slice(2);
let failed = (await runBunTest("all suites (embedded, plus real services where they answer)", extra)) !== 0;

const production = await servicesAvailable("API suites on the production backend", ["postgres", "redis", "milvus", "neo4j"]);
if (production) {
  const code = await runBunTest("API suites again on the production backend", [...API_SUITES, ...extra], {
    TEST_BACKEND: "production",
    MEMORY_TEST_PRODUCTION: process.env.MEMORY_TEST_PRODUCTION ?? "auto",
  });
  failed ||= code !== 0;
  if (await servicesAvailable("Redis suites on a Redis Cluster", ["redis-cluster"])) {
    const clusterCode = await runBunTest("Redis suites again with REDIS_CLUSTER_NODES (three masters)", [...REDIS_SUITES, ...extra], {
      TEST_BACKEND: "production",
      MEMORY_TEST_PRODUCTION: process.env.MEMORY_TEST_PRODUCTION ?? "auto",
      REDIS_CLUSTER_NODES: redisTopologiesIn(process.env).STACK_REDIS_CLUSTER_NODES,
    });
    failed ||= clusterCode !== 0;
  }
}

if (failures.length > 0) console.log(`\nfailed:\n${failures.join("\n")}`);
console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skip} skipped`);
process.exit(failed ? 1 : 0);
