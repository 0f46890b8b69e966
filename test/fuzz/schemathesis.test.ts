/**
 * Fuzzing with schemathesis against the running server's /openapi.json (scripts/fuzz.ts):
 * zero failed checks and zero 5xx over at least 10,000 requests. Installs schemathesis from PyPI
 * into .cache/ on first use. FUZZ_MAX_EXAMPLES overrides the examples per operation; the run takes
 * FUZZ_MAX_TIME seconds (default 600: schemathesis repeats its fuzzing until then), so a schema
 * that grows costlier to generate (the recursive filter language did) cannot outgrow the timeout.
 */
import { expect, test } from "bun:test";

test("schemathesis: >= 10,000 requests, every check passes, no 5xx", async () => {
  const examples = process.env.FUZZ_MAX_EXAMPLES ?? "1500";
  const seconds = process.env.FUZZ_MAX_TIME ?? "600";
  const proc = Bun.spawn([process.execPath, "run", "scripts/fuzz.ts", "--max-examples", examples, "--max-time", seconds], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  process.stderr.write(out);
  const summary = /fuzz: (\d+) cases, (\d+) requests, (\d+) failures, (\d+) 5xx/.exec(out);
  expect(summary).not.toBeNull();
  const [, , requests, failures, serverErrors] = summary!.map(Number);
  expect({ failures, serverErrors, code }).toEqual({ failures: 0, serverErrors: 0, code: 0 });
  if (!process.env.FUZZ_MAX_EXAMPLES) expect(requests).toBeGreaterThanOrEqual(10_000);
}, 1_500_000);
