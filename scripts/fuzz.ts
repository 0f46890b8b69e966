/**
 * Fuzzes the running API with schemathesis (PyPI) from its own /openapi.json:
 *
 *   bun run scripts/fuzz.ts [--max-examples N] [--max-time S] [--seed N] [-- schemathesis options]
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
const ACCEPTS: { method: string; path: string; statuses: string[]; why: string; rejectsWith?: string[] }[] = [
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
    why:
      "a memory's expires_at must be in the future and within ten years, and not given with ttl_seconds; with dedupe merge, the " +
      "matched memory's metadata merged with the new one's must stay within 16 KiB; otherwise a 422 naming the field",
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
    rejectsWith: ["431"],
    why:
      "`filter` is JSON in the URL: a schema cannot bound its URL-encoded length (431 beyond the server's 16 KiB of headers, " +
      "for invalid data too), nor the count of conditions over all nesting levels (64; more is a 422 naming the filter)",
  },
  {
    method: "GET",
    path: "/v1/collections/{collection_id}/export",
    statuses: ["431", "422"],
    rejectsWith: ["431"],
    why: "`filter` is list's filter: the same bounds a schema cannot state (URL length, for invalid data too; conditions over all nesting levels)",
  },
  {
    method: "POST",
    path: "/v1/collections/{collection_id}/memories/delete",
    statuses: ["422"],
    why:
      "a schema cannot count a filter's conditions over all its nesting levels (at most 64), nor tell a filter without any " +
      "condition ({\"metadata\": {}}, {\"$and\": [{}]}), which would delete everything and must be said as all: true, from one with some; " +
      "both are a 422 naming `filter`",
  },
  {
    method: "POST",
    path: "/v1/search",
    statuses: ["422"],
    why: "a schema cannot count a filter's conditions over all its nesting levels (at most 64; more is a 422 naming `filters`)",
  },
  {
    method: "GET",
    path: "/v1/collections",
    statuses: ["422"],
    why:
      "`cursor` is opaque (a collection's creation time and id, base64url): a schema can state its alphabet and length, " +
      "not that this API gave it; another string of that alphabet is a 422 naming query.cursor",
  },
  {
    method: "POST",
    path: "/v1/collections/{collection_id}/import",
    statuses: [],
    rejectsWith: ["200"],
    why:
      "an import reports each bad line, by number, in its 200 answer's summary and writes the good ones: a schema-violating " +
      "line is refused in-band, not by the request's status (a request that is not NDJSON at all is a 415)",
  },
  ...["POST /v1/collections/{collection_id}/webhooks", "PATCH /v1/collections/{collection_id}/webhooks/{webhook_id}"].map((name) => ({
    method: name.split(" ")[0]!,
    path: name.split(" ")[1]!,
    statuses: ["422"],
    why:
      "a schema cannot say which URLs this server delivers to: an absolute http(s) URL without credentials or #fragment, to a host " +
      "WEBHOOK_ALLOWED_HOSTS and WEBHOOK_PRIVATE_TARGETS allow; another string is a 422 naming url",
  })),
];
const DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"];
/** schemathesis's own list for negative_data_rejection (4.32), extended per operation by `rejectsWith`. */
const DEFAULT_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"];

/**
 * Operations whose requests take several times longer to generate than the others (the recursive
 * filter language: ~0.35 s a case against ~0.07 s), so each gets this share of the examples, and why.
 */
const FEWER_EXAMPLES: { method: string; path: string; share: number; why: string }[] = [
  { method: "POST", path: "/v1/search", share: 0.2, why: "its body's `filters` is the recursive filter language" },
  { method: "GET", path: "/v1/collections/{collection_id}/memories", share: 0.2, why: "its `filter` parameter is the recursive filter language" },
  { method: "GET", path: "/v1/collections/{collection_id}/export", share: 0.2, why: "its `filter` parameter is the recursive filter language" },
  { method: "POST", path: "/v1/collections/{collection_id}/memories/delete", share: 0.2, why: "its body's `filter` is the recursive filter language" },
];

/**
 * A schemathesis hook module: NDJSON request bodies (POST …/import), whose schema is one line's,
 * are sent as that line (a generated array as one line per item), newline-terminated.
 */
const NDJSON_HOOKS = `import json
import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    lines = value if isinstance(value, list) else [value]
    return "".join(json.dumps(line) + "\\n" for line in lines).encode("utf-8", "surrogatepass")
`;

/** schemathesis.toml: examples per operation, and the statuses each operation may also answer. */
function configToml(maxExamples: number): string {
  const operations = new Map<string, { method: string; path: string; lines: string[] }>();
  const entry = (method: string, path: string) => {
    const key = `${method} ${path}`;
    if (!operations.has(key)) operations.set(key, { method, path, lines: [] });
    return operations.get(key)!.lines;
  };
  for (const { method, path, statuses, rejectsWith } of ACCEPTS) {
    entry(method, path).push(`checks.positive_data_acceptance.expected-statuses = ${JSON.stringify([...DEFAULT_ACCEPTED, ...statuses])}`);
    if (rejectsWith) entry(method, path).push(`checks.negative_data_rejection.expected-statuses = ${JSON.stringify([...DEFAULT_REJECTED, ...rejectsWith])}`);
  }
  for (const { method, path, share } of FEWER_EXAMPLES) {
    entry(method, path).push(`generation.max-examples = ${Math.max(1, Math.round(maxExamples * share))}`);
  }
  const tables = [...operations.values()].map(
    // include-name is the operation's label ("GET /v1/search"): include-path and include-method
    // would be two alternatives, each matching operations of its own (every GET, say)
    ({ method, path, lines }) => `[[operations]]\ninclude-name = ${JSON.stringify(`${method} ${path}`)}\n${lines.join("\n")}\n`,
  );
  return [`generation.max-examples = ${maxExamples}\n`, ...tables].join("\n");
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
  const maxExamples = Number(argValue("--max-examples", "100"));
  if (!Number.isInteger(maxExamples) || maxExamples < 1) throw new Error("--max-examples takes a whole number of at least 1");
  const maxTime = argValue("--max-time", "");
  const seed = argValue("--seed", "20261125");
  // after `--`: schemathesis's own options (say `--include-path /v1/search --phases fuzzing`)
  const dashes = process.argv.indexOf("--");
  const passThrough = dashes >= 0 ? process.argv.slice(dashes + 1) : [];
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
      // webhooks the fuzzer registers may deliver to this machine only: a load test reaches no other host
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
      WEBHOOK_TIMEOUT_MS: "1000",
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
    writeFileSync(configFile, configToml(maxExamples));
    const hooksFile = join(dataDir, "ndjson_hooks.py");
    writeFileSync(hooksFile, NDJSON_HOOKS);
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
      "--seed",
      seed,
      // hypothesis's check on how fast *it* generates data (the filter schema of export), not on
      // the API: a slow box failed the run on it with every API check passing
      "--suppress-health-check=too_slow",
      "--workers",
      "2",
      "--request-timeout",
      "30",
      "--continue-on-failure",
      "--no-color",
      ...(maxTime ? ["--max-time", maxTime] : []),
      ...passThrough,
    ];
    console.error(`[fuzz] ${args.slice(1).join(" ").replace(token, "<token>")}`);
    for (const [check, why] of Object.entries(EXCLUDED)) console.error(`[fuzz] excluded ${check}: ${why}`);
    for (const { method, path, statuses, rejectsWith, why } of ACCEPTS) {
      const also = [...statuses, ...(rejectsWith ?? []).map((status) => `${status} (to invalid data)`)];
      console.error(`[fuzz] ${method} ${path} may also answer ${also.join(", ")}: ${why}`);
    }
    for (const { method, path, share, why } of FEWER_EXAMPLES) console.error(`[fuzz] ${method} ${path} gets ${share * 100}% of the examples: ${why}`);
    const started = Date.now();
    const { code, out } = await run(args, { env: { ...process.env, SCHEMATHESIS_HOOKS: hooksFile, NO_COLOR: "1" } });
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
