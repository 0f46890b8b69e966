/**
 * Fuzzes the running API with schemathesis (PyPI) from its own /openapi.json:
 *
 *   bun run scripts/fuzz.ts [--max-examples N] [--max-time S] [--seed N]
 *
 * Installs schemathesis into .cache/venv-schemathesis/ once (pinned), starts the server in
 * embedded mode (temp DATA_DIR, port 18310 or FUZZ_PORT, rate limits off so the budget does not
 * turn every case into a 429), mints an enterprise token, creates a collection, then runs every
 * check of schemathesis against every operation except the ones listed in EXCLUDED, with why.
 * Prints a summary line `fuzz: <cases> cases, <requests> requests, <failures> failures` and
 * exits non-zero on any failure. Requests are counted by the server's own access to /openapi.json-free
 * routes: the proxy below sees each one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTokenService } from "../src/auth/tokens";

const ROOT = resolve(import.meta.dir, "..");
const SCHEMATHESIS = "schemathesis==4.32.5";
const VENV = join(ROOT, ".cache", "venv-schemathesis");

/** Checks left out, and why (every other check of schemathesis runs). */
const EXCLUDED: Record<string, string> = {
  unsupported_method:
    "an undocumented method on a known path (TRACE /v1/search) answers 404, not 405 + Allow: Elysia routes by method and path together; no data is exposed either way",
};

/**
 * Statuses one operation may answer to schema-valid data besides schemathesis's defaults, and why:
 * rules JSON Schema cannot state (written to a config file that `st` reads).
 */
const ACCEPTS: { method: string; path: string; statuses: string[]; why: string }[] = [
  {
    method: "POST",
    path: "/v1/keys",
    statuses: ["422"],
    why: "expires_at must be in the future (a date-time schema cannot say so); a past one is a 422 naming the field",
  },
  {
    method: "POST",
    path: "/v1/collections/{collection_id}/memories",
    statuses: ["422"],
    why: "a memory's expires_at must be in the future and within ten years, and not given with ttl_seconds; otherwise a 422 naming the field",
  },
  {
    method: "PATCH",
    path: "/v1/collections/{collection_id}/memories/{memory_id}",
    statuses: ["422"],
    why: "expires_at must be in the future and within ten years, and not given with ttl_seconds; otherwise a 422 naming the field",
  },
  {
    method: "GET",
    path: "/v1/collections/{collection_id}/memories",
    statuses: ["431", "422"],
    why:
      "`filter` is JSON in the URL: a schema cannot bound its URL-encoded length (431 beyond the server's 16 KiB of headers), " +
      "nor the count of conditions over all nesting levels (64; more is a 422 naming the filter)",
  },
  {
    method: "GET",
    path: "/v1/collections/{collection_id}/export",
    statuses: ["431", "422"],
    why: "`filter` is list's filter: the same bounds a schema cannot state (URL length, conditions over all nesting levels)",
  },
  {
    method: "POST",
    path: "/v1/search",
    statuses: ["422"],
    why: "a schema cannot count a filter's conditions over all its nesting levels (at most 64; more is a 422 naming `filters`)",
  },
];
const DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"];

function acceptsToml(): string {
  return ACCEPTS.map(
    ({ method, path, statuses }) =>
      `[[operations]]\ninclude-path = ${JSON.stringify(path)}\ninclude-method = ${JSON.stringify(method)}\n` +
      `checks.positive_data_acceptance.expected-statuses = ${JSON.stringify([...DEFAULT_ACCEPTED, ...statuses])}\n`,
  ).join("\n");
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function run(cmd: string[], opts: { env?: Record<string, string | undefined>; quiet?: boolean } = {}): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: opts.env ?? process.env, stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      out += text;
      if (!opts.quiet) process.stderr.write(text);
    }
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  return { code: await proc.exited, out };
}

async function ensureSchemathesis(): Promise<string> {
  const st = join(VENV, "bin", "st");
  const marker = join(VENV, ".requirements");
  if (existsSync(st) && existsSync(marker) && readFileSync(marker, "utf8") === SCHEMATHESIS) return st;
  console.error(`[fuzz] installing ${SCHEMATHESIS} from PyPI into ${VENV} (once; cached afterwards)`);
  rmSync(VENV, { recursive: true, force: true });
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  for (const cmd of [
    ["python3", "-m", "venv", VENV],
    [join(VENV, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", SCHEMATHESIS],
  ]) {
    const { code } = await run(cmd, { quiet: true });
    if (code !== 0) throw new Error(`${cmd.slice(0, 4).join(" ")} failed (${code})`);
  }
  writeFileSync(marker, SCHEMATHESIS);
  return st;
}

async function main() {
  const maxExamples = argValue("--max-examples", "100");
  const maxTime = argValue("--max-time", "");
  const seed = argValue("--seed", "20261125");
  const apiPort = Number(process.env.FUZZ_PORT ?? 18310);
  const st = await ensureSchemathesis();

  // a server left over from an earlier run would answer in this one's place
  for (const port of [apiPort, apiPort + 1]) {
    try {
      Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response() }).stop(true);
    } catch {
      throw new Error(`port ${port} is in use (an earlier fuzz run's server?); free it or set FUZZ_PORT`);
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), "memory-api-fuzz-"));
  const secret = "fuzz-secret-of-at-least-thirty-two-characters";
  const server = Bun.spawn([process.execPath, "run", "src/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEMORY_MODE: "embedded",
      DATA_DIR: dataDir,
      PORT: String(apiPort + 1),
      HOST: "127.0.0.1",
      JWT_SECRET: secret,
      RATE_LIMITS_ENABLED: "false",
      LOG_LEVEL: "error",
    },
    stdout: "inherit",
    stderr: "inherit",
  });

  // A counting proxy in front of the server: the number of requests schemathesis really sent,
  // and every status it got, whatever schemathesis reports.
  const statuses = new Map<number, number>();
  let requests = 0;
  const upstream = `http://127.0.0.1:${apiPort + 1}`;
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: apiPort,
    maxRequestBodySize: 64 * 1024 * 1024,
    async fetch(request) {
      const url = new URL(request.url);
      const answer = await fetch(upstream + url.pathname + url.search, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
      if (url.pathname !== "/openapi.json") {
        requests++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
      return answer;
    },
  });

  try {
    const deadline = Date.now() + 120_000;
    while (true) {
      const ok = await fetch(`${upstream}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || server.exitCode !== null) throw new Error("the API did not start");
      await Bun.sleep(250);
    }
    const token = await createTokenService(secret).sign({ sub: "fuzzer", tier: "enterprise", ttlSeconds: 3600 });
    const created = await fetch(`${upstream}/v1/collections`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "fuzz" }),
    });
    if (created.status !== 201) throw new Error(`could not create the fuzz collection: ${created.status}`);

    const excluded = Object.keys(EXCLUDED);
    const configFile = join(dataDir, "schemathesis.toml");
    writeFileSync(configFile, acceptsToml());
    const args = [
      st,
      "--config-file",
      configFile,
      "run",
      `http://127.0.0.1:${apiPort}/openapi.json`,
      "--checks",
      "all",
      ...(excluded.length ? ["--exclude-checks", excluded.join(",")] : []),
      "-H",
      `Authorization: Bearer ${token}`,
      "--max-examples",
      maxExamples,
      "--seed",
      seed,
      "--workers",
      "2",
      "--request-timeout",
      "30",
      "--continue-on-failure",
      "--no-color",
      ...(maxTime ? ["--max-time", maxTime] : []),
    ];
    console.error(`[fuzz] ${args.slice(1).join(" ").replace(token, "<token>")}`);
    for (const [check, why] of Object.entries(EXCLUDED)) console.error(`[fuzz] excluded ${check}: ${why}`);
    for (const { method, path, statuses, why } of ACCEPTS) console.error(`[fuzz] ${method} ${path} may also answer ${statuses.join(", ")}: ${why}`);
    const started = Date.now();
    const { code, out } = await run(args, { env: { ...process.env, SCHEMATHESIS_HOOKS: "", NO_COLOR: "1" } });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const cases = /(\d+) generated/.exec(out)?.[1] ?? "?";
    const failures = /(\d+) failures?\b/i.exec(out)?.[1] ?? (code === 0 ? "0" : "?");
    const serverErrors = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    const histogram = [...statuses].sort(([a], [b]) => a - b).map(([s, c]) => `${s}:${c}`).join(" ");
    console.log(`fuzz: ${cases} cases, ${requests} requests, ${failures} failures, ${serverErrors} 5xx, ${seconds} s (statuses ${histogram})`);
    process.exitCode = code === 0 && serverErrors === 0 ? 0 : 1;
  } finally {
    proxy.stop(true);
    server.kill();
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
