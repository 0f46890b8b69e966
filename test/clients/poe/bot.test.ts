/**
 * `bun run poe-bot` called by the official fastapi-poe client (Python, from PyPI), the way Poe's
 * servers call a bot: streamed answers quoted from memories imported from Notion, the settings
 * answer, the report_* requests, the access-key check, and Memory API failures (expired token,
 * 429, 503, no answer) turned into readable error events that end the stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ensurePythonVenv } from "../../../scripts/python-venv";
import { createLogger } from "../../../src/log";
import { MemoryClient } from "../../../clients/typescript/memory-client";
import { buildPoeBot } from "../../../clients/poe/bot";
import { ROOT, freePort, newCollection, runScript, startMemoryApi, type MemoryApiProcess } from "../support";

const ACCESS_KEY = "poe-access-key-0123456789abcdef0123";
let python = "";
let api: MemoryApiProcess;
let token = "";
let cid = "";
let bot: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let botUrl = "";
let botLog = "";

interface StepResult {
  kind: string;
  text?: string;
  parts?: number;
  meta?: { content_type: string; linkify: boolean }[];
  settings?: Record<string, unknown>;
  bot_error?: string;
  bot_error_type?: string;
  cause?: string;
  exception?: string;
  elapsed_ms: number;
  statuses: number[];
}

async function poeClient(url: string, steps: Record<string, unknown>[], key = ACCESS_KEY): Promise<StepResult[]> {
  // bounded: a client that hangs is killed (and the test fails) instead of holding the suite
  const proc = Bun.spawn([python, join(import.meta.dir, "poe_client.py"), JSON.stringify({ url, key, steps })], { stdout: "pipe", stderr: "pipe", timeout: 45_000 });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`poe_client.py failed (${code}):\n${stderr}`);
  return JSON.parse(stdout);
}

async function startBotProcess(env: Record<string, string>): Promise<void> {
  const port = freePort();
  botUrl = `http://127.0.0.1:${port}/`;
  bot = Bun.spawn([process.execPath, "run", "clients/poe/cli.ts"], { cwd: ROOT, env: { ...env, POE_BOT_PORT: String(port) }, stdout: "pipe", stderr: "pipe" });
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of bot!.stderr) botLog += decoder.decode(chunk);
  })();
  const deadline = Date.now() + 30_000;
  while (!botLog.includes("Poe bot listening") && Date.now() < deadline) await Bun.sleep(50);
  if (!botLog.includes("Poe bot listening")) throw new Error(`the bot did not start:\n${botLog}`);
}

/** The venv with fastapi-poe (installed from PyPI once, cached in .cache/venv-poe), or a clear failure. */
async function poePython(): Promise<string> {
  if (!Bun.which("python3")) {
    throw new Error("the Poe bot tests need python3 (3.8+ with the venv module) on PATH to install fastapi-poe from PyPI into .cache/venv-poe; none was found");
  }
  try {
    return await ensurePythonVenv("poe");
  } catch (error) {
    throw new Error(
      `the Poe bot tests could not install fastapi-poe into .cache/venv-poe (python3 -m venv, then pip from PyPI; needs the network once): ${(error as Error).message}`,
    );
  }
}

beforeAll(async () => {
  python = await poePython();
  api = await startMemoryApi();
  // the bot's long-lived token, minted like the README says
  token = api.mint(`poe-${crypto.randomUUID()}`, "pro", { days: 30 });
  cid = await newCollection(api, token);
  const imported = await runScript("clients/notion/cli.ts", [join(ROOT, "test/fixtures/notion-export"), "--collection", cid], {
    ...api.env,
    MEMORY_API_URL: api.url,
    MEMORY_API_TOKEN: token,
  });
  if (imported.code !== 0) throw new Error(`seeding failed:\n${imported.stderr}`);
  await startBotProcess({
    ...api.env,
    LOG_LEVEL: "info",
    MEMORY_API_URL: api.url,
    POE_ACCESS_KEY: ACCESS_KEY,
    POE_MEMORY_TOKEN: token,
    POE_COLLECTION_ID: cid,
  });
}, 300_000);

afterAll(async () => {
  if (bot) {
    bot.kill("SIGTERM");
    await bot.exited;
  }
  if (api) {
    await api.call("DELETE", `/v1/collections/${cid}`, token).catch(() => {});
    await api.stop();
  }
});

describe("the Poe bot, called by fastapi-poe's client", () => {
  test("answers a question by quoting the best memories with their Notion sources, reranked for a premium token", async () => {
    const [vpn, rollback, followUp] = await poeClient(botUrl, [
      { kind: "query", question: "How do I connect to the internal network when working from home?" },
      { kind: "query", question: "what should I do when a release goes wrong?" },
      {
        kind: "query",
        history: [
          ["user", "tell me about the cafeteria"],
          ["bot", "It is on the third floor."],
        ],
        question: "is there a green tea dessert?",
      },
    ]);
    for (const r of [vpn, rollback, followUp]) {
      expect(r!.statuses).toEqual([200]);
      expect(r!.bot_error).toBeUndefined();
      expect(r!.meta).toEqual([{ content_type: "text/markdown", linkify: true }]);
    }
    expect(vpn!.text).toStartWith("From your memories");
    expect(vpn!.text).toContain("WireGuard");
    // the first quote comes from the right page and section
    expect(vpn!.text!.split("\n\n— *")[1]).toStartWith("Notion: Engineering Onboarding › VPN access*");
    expect(rollback!.text).toContain("redeploying the previous image tag");
    // quoted with its source (the self-trained reranker may put the "Before the release" section above it)
    expect(rollback!.text).toContain("— *Notion: Deploy Checklist › Rolling back*");
    // the last user message is the question, not the history
    expect(followUp!.text).toContain("抹茶");
    expect(followUp!.text).toContain("Notion: Café Menu ☕");
    expect(botLog).toContain('"reranked":true');
  });

  test("says plainly when nothing relevant is stored", async () => {
    const [r] = await poeClient(botUrl, [{ kind: "query", question: "What is the boiling point of mercury in kelvin?" }]);
    expect(r!.statuses).toEqual([200]);
    expect(r!.text).toBe("I found nothing relevant to that in your stored memories, so I cannot answer it from them.");
  });

  test("answers settings with a valid SettingsResponse and accepts the report_* requests", async () => {
    const [settings, feedback, reaction, error] = await poeClient(botUrl, [
      { kind: "settings" },
      { kind: "report_feedback" },
      { kind: "report_reaction" },
      { kind: "report_error" },
    ]);
    expect(settings!.statuses).toEqual([200]);
    expect(settings!.settings).toMatchObject({ response_version: 2, allow_attachments: false, introduction_message: expect.stringContaining("memories") });
    for (const r of [feedback, reaction, error]) {
      expect(r!.exception).toBeUndefined();
      expect(r!.statuses).toEqual([200]);
    }
    expect(botLog).toContain('"msg":"poe feedback"');
    expect(botLog).toContain('"feedback_type":"like"');
    expect(botLog).toContain('"reaction":"heart"');
  });

  test("a wrong access key is a 401, for queries and settings alike", async () => {
    const [query, settings] = await poeClient(botUrl, [{ kind: "query", question: "how do I get VPN access?" }, { kind: "settings" }], "wrong-key");
    expect(query!.statuses).toEqual([401]);
    expect(query!.bot_error).toBeDefined();
    expect(query!.text).toBeUndefined();
    expect(settings!.statuses).toEqual([401]);
    const raw = await fetch(botUrl, { method: "POST", headers: { "content-type": "application/json" }, body: '{"version":"1.2","type":"settings"}' });
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("logs carry no question, answer or token", () => {
    expect(botLog).not.toContain("boiling point");
    expect(botLog).not.toContain("WireGuard");
    expect(botLog).not.toContain(token);
  });
});

describe("Memory API failures become readable error events that end the stream", () => {
  const servers: { stop(force?: boolean): void }[] = [];
  afterAll(() => {
    for (const s of servers) s.stop(true);
  });

  /** The bot in-process over a given Memory API URL and token. */
  function serveBot(memoryApiUrl: string, memoryToken: string, searchTimeoutMs = 5000): string {
    const config = { accessKey: ACCESS_KEY, collectionId: cid || "c", topK: 3, rerank: "auto" as const, minSimilarity: 0.3, searchTimeoutMs, introduction: "hi", memoryToken };
    const client = new MemoryClient({ baseUrl: memoryApiUrl, token: memoryToken, timeoutMs: searchTimeoutMs });
    const app = buildPoeBot({ config, client, log: createLogger("silent") });
    const server = Bun.serve({ port: freePort(), hostname: "127.0.0.1", fetch: (r) => app.handle(r) });
    servers.push(server);
    return `http://127.0.0.1:${server.port}/`;
  }

  /** A fake Memory API answering every request with one status (or never, with 0). */
  function fakeApi(status: number): string {
    const server = Bun.serve({
      port: freePort(),
      hostname: "127.0.0.1",
      fetch: async () => {
        if (status === 0) await Bun.sleep(30_000);
        return Response.json(
          { type: "about:blank", title: "x", status, detail: "fake", code: status === 429 ? "rate_limited" : "overloaded" },
          { status, headers: { "content-type": "application/problem+json", "retry-after": "7" } },
        );
      },
    });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  }

  const errorText = (r: StepResult) => {
    expect(r.bot_error).toBeDefined();
    expect(r.statuses).toEqual([200]);
    return JSON.parse(r.bot_error!) as { text: string; allow_retry: boolean };
  };

  test("an expired token (401 from the real API)", async () => {
    const expired = api.mint("poe-expired", "pro", { hours: 0.0002 }); // ~0.7 s
    await Bun.sleep(1500);
    const [r] = await poeClient(serveBot(api.url, expired), [{ kind: "query", question: "how do I get VPN access?" }]);
    const error = errorText(r!);
    expect(error.text).toContain("expired or was revoked");
    expect(error.allow_retry).toBe(false);
    expect(r!.bot_error_type).toBe("BotErrorNoRetry");
  });

  test("429 and 503 say when to try again; no answer at all times out", async () => {
    const [limited] = await poeClient(serveBot(fakeApi(429), token), [{ kind: "query", question: "anything" }]);
    expect(errorText(limited!)).toEqual({ text: expect.stringContaining("Please try again in about 7 s"), allow_retry: true });
    expect(errorText(limited!).text).toContain("(429)");
    const [down] = await poeClient(serveBot(fakeApi(503), token), [{ kind: "query", question: "anything" }]);
    expect(errorText(down!).text).toContain("temporarily unavailable (503). Please try again in about 7 s");
    const [hung] = await poeClient(serveBot(fakeApi(0), token, 500), [{ kind: "query", question: "anything" }]);
    expect(errorText(hung!).text).toContain("did not answer within 1 s");
    expect(hung!.elapsed_ms).toBeLessThan(20_000);
  });

  test("a free token is never asked to rerank; the answer still comes", async () => {
    const free = api.mint(`poe-free-${crypto.randomUUID()}`, "free");
    const freeCid = await newCollection(api, free);
    await api.call("POST", `/v1/collections/${freeCid}/memories`, free, {
      memories: [{ content: "The spare office key is in the blue drawer of the reception desk.", metadata: { title: "Office keys" } }],
    });
    const config = { accessKey: ACCESS_KEY, collectionId: freeCid, topK: 3, rerank: "auto" as const, minSimilarity: 0.3, searchTimeoutMs: 5000, introduction: "hi", memoryToken: free };
    const app = buildPoeBot({ config, client: new MemoryClient({ baseUrl: api.url, token: free }), log: createLogger("silent") });
    const server = Bun.serve({ port: freePort(), hostname: "127.0.0.1", fetch: (r) => app.handle(r) });
    servers.push(server);
    const [r] = await poeClient(`http://127.0.0.1:${server.port}/`, [{ kind: "query", question: "where can I find a spare key for the office?" }]);
    expect(r!.text).toContain("blue drawer");
    expect(r!.text).toContain("— *Office keys*");
  });
});
