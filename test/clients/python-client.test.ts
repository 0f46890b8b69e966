/**
 * The Python client (clients/python), pip-installed from the repo path into a venv with pinned
 * PyPI packages, runs its pytest suite against a real Memory API process (embedded, or the
 * production backend with TEST_BACKEND=production): every operation, pagination, errors mapped
 * from problem+json, Retry-After honoured on a real 429, and the async client's parity.
 * One bun test per pytest module, so a failure names the area.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePythonVenv } from "../../scripts/python-venv";
import { accessClaims, hs256, nowSeconds } from "../support/jwt";
import { ROOT, startMemoryApi, type MemoryApiProcess } from "./support";

const PACKAGE = join(ROOT, "clients/python");
const PYTEST_MODULES = readdirSync(join(PACKAGE, "tests"))
  .filter((name) => /^test_.*\.py$/.test(name))
  .sort();
/** Small, so the 429 tests spend it quickly; the retry after it waits 60/limit s at most. */
const FREE_PER_MINUTE = 30;

let python = "";
let api: MemoryApiProcess;
let pytestEnv: Record<string, string> = {};
const reports = mkdtempSync(join(tmpdir(), "python-client-junit-"));

async function run(cmd: string[], env: Record<string, string> = {}, timeout = 240_000) {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", timeout });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/**
 * The venv with the pinned test dependencies, and the client installed from the repo path (each
 * run: the source may have changed). PYTHON_CLIENT_TEST_PYTHON names another interpreter (one
 * with httpx and pytest, e.g. of another Python version) to install it into and test with.
 */
async function clientPython(): Promise<string> {
  const given = process.env.PYTHON_CLIENT_TEST_PYTHON;
  if (!given && !Bun.which("python3")) throw new Error("the Python client tests need python3 (3.9+ with the venv module) on PATH");
  const venvPython = given || (await ensurePythonVenv("python-client"));
  // the venv has the pinned build backend; another interpreter builds in isolation (from PyPI)
  const isolation = given ? [] : ["--no-build-isolation"];
  const install = await run([venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--no-deps", ...isolation, "--force-reinstall", PACKAGE]);
  if (install.code !== 0) throw new Error(`pip install ${PACKAGE} failed:\n${install.stdout}${install.stderr}`);
  return venvPython;
}

async function token(sub: string, tier: string, claims: Record<string, unknown> = {}): Promise<string> {
  return hs256(api.env.JWT_SECRET!, accessClaims(sub, { tier, ...claims }));
}

beforeAll(async () => {
  python = await clientPython();
  // the webhook tests deliver to a receiver on 127.0.0.1: allowed in embedded mode, denied by default in production
  api = await startMemoryApi({ RATE_LIMIT_FREE: String(FREE_PER_MINUTE), WEBHOOK_PRIVATE_TARGETS: "allow" });
  const runId = crypto.randomUUID();
  pytestEnv = {
    MEMORY_API_URL: api.url,
    MEMORY_API_TOKEN: await token(`py-pro-${runId}`, "pro"),
    MEMORY_API_TOKEN_OTHER: await token(`py-other-${runId}`, "pro"),
    MEMORY_API_TOKEN_FREE: await token(`py-free-${runId}`, "free"),
    MEMORY_API_TOKEN_FREE_LIMITED: await token(`py-limited-${runId}`, "free"),
    MEMORY_API_TOKEN_EXPIRED: await token(`py-expired-${runId}`, "pro", { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }),
    MEMORY_API_RATE_LIMIT_FREE: String(FREE_PER_MINUTE),
    PYTHONDONTWRITEBYTECODE: "1",
  };
}, 600_000);

afterAll(async () => {
  await api?.stop();
  rmSync(reports, { recursive: true, force: true });
});

interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function junitCounts(file: string): JunitCounts {
  const suite = /<testsuite\b[^>]*>/.exec(readFileSync(file, "utf8"))?.[0] ?? "";
  const count = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? NaN);
  return { tests: count("tests"), failures: count("failures"), errors: count("errors"), skipped: count("skipped") };
}

describe("the Python client's pytest suite against a running server", () => {
  test("finds its pytest modules", () => {
    expect(PYTEST_MODULES).toContain("test_rate_limit.py");
    expect(PYTEST_MODULES.length).toBeGreaterThanOrEqual(8);
  });

  for (const module of PYTEST_MODULES) {
    test(
      module,
      async () => {
        const junit = join(reports, `${module}.xml`);
        const result = await run(
          [python, "-m", "pytest", join(PACKAGE, "tests", module), "-q", "-rs", "-p", "no:cacheprovider", `--junitxml=${junit}`],
          pytestEnv,
        );
        const counts = junitCounts(junit);
        if (result.code !== 0 || counts.skipped !== 0) console.error(`pytest ${module}:\n${result.stdout}${result.stderr}`);
        expect(result.code).toBe(0);
        // every test ran: a skip here means the server or a token was not handed over
        expect(counts).toMatchObject({ failures: 0, errors: 0, skipped: 0 });
        expect(counts.tests).toBeGreaterThan(0);
        console.log(`pytest ${module}: ${counts.tests} passed`);
      },
      180_000,
    );
  }
});
