/**
 * `bun run bench/experiments/poe-answer.ts [--pages N]`: the Poe bot's answer time, end to end.
 *
 * Runs bench/experiments/notion-import.ts's import first (a generated N-page export, 1,000 by default, into
 * an embedded Memory API; it writes bench/results/notion-import.json too), then starts
 * `bun run poe-bot` against that API twice over: with a starter-tier token (hybrid search, no
 * rerank) and with a pro-tier one (hybrid + the cross-encoder rerank, what `POE_RERANK=auto`
 * does for premium tokens). Each bot is asked the same questions as Poe's servers would ask them
 * (POST `query`, server-sent events), and each is timed from the request to the `done` event;
 * each question is asked twice, the second time answered from the API's search cache.
 * Prints p50/max and writes bench/results/poe-answer.json.
 *
 * The starter bot asks first, on cold caches; the pro bot's semantic search (the relevance check
 * beside the hybrid one) then finds the same request cached, its reranked hybrid one does not.
 * When the CPU is busy, the API's reranker (an idle-priority thread) may give up after
 * RERANK_MAX_WAIT_MS (1 s) and answer unreranked, uncached: `reranked` per query says so.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { RESULTS_DIR, ROOT, freeLoopbackPort, pagesOption, runNotionImportBench } from "./notion-import";

const say = (line: string) => console.error(line);
const ACCESS_KEY = `bench-poe-${crypto.randomUUID()}`;

/** Questions about the generated notes (bench/vocabulary.ts), and one nothing answers. */
export const QUESTIONS = [
  "who is the new tech lead on Orion?",
  "which team uses Kafka for the billing service?",
  "the search API went down after a bad deploy: who rolled it back?",
  "when is the Falcon deadline now?",
  "what is the boiling point of mercury in kelvin?",
];

interface Timing {
  question: string;
  pass: "cold" | "cached";
  first_text_ms: number;
  done_ms: number;
  /** Memories quoted (0: "nothing relevant"); -1 for an error event. */
  quoted: number;
  /** From the bot's log line of the query: whether the API reranked the hybrid search. */
  reranked?: boolean;
}

/** One `query` request, read as Poe reads it, until `done`. */
async function ask(botUrl: string, question: string): Promise<Omit<Timing, "question" | "pass">> {
  const started = performance.now();
  const response = await fetch(botUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${ACCESS_KEY}`, "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({
      version: "1.2",
      type: "query",
      query: [{ role: "user", content: question, content_type: "text/markdown" }],
      user_id: "u-bench",
      conversation_id: "c-bench",
      message_id: `m-${crypto.randomUUID()}`,
    }),
    signal: AbortSignal.timeout(60_000),
  });
  if (response.status !== 200 || !response.body) throw new Error(`the bot answered ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let firstText = -1;
  let text = "";
  let errored = false;
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.+)$/m.exec(raw)?.[1];
      const data = /^data: (.*)$/m.exec(raw)?.[1] ?? "{}";
      if (event === "text") {
        if (firstText < 0) firstText = performance.now() - started;
        text += (JSON.parse(data) as { text: string }).text;
      } else if (event === "error") errored = true;
      else if (event === "done") {
        const done = performance.now() - started;
        return { first_text_ms: round(firstText < 0 ? done : firstText), done_ms: round(done), quoted: errored ? -1 : (text.match(/\n— \*/g) ?? []).length };
      }
    }
  }
  throw new Error("the stream ended without a done event");
}

interface Bot {
  url: string;
  /** The `poe query` log lines so far (JSON objects). */
  queries(): { reranked?: boolean; outcome?: string }[];
  stop(): Promise<void>;
}

async function startBot(env: Record<string, string>): Promise<Bot> {
  const port = freeLoopbackPort();
  const bot: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([process.execPath, "run", "clients/poe/cli.ts"], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), ...env, POE_ACCESS_KEY: ACCESS_KEY, POE_BOT_PORT: String(port), LOG_LEVEL: "info" },
    stdout: "pipe",
    stderr: "pipe",
  });
  void bot.stdout.pipeTo(new WritableStream()).catch(() => {});
  let log = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of bot.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    // up when it answers (401: no key sent)
    const status = await fetch(url, { method: "POST", body: "{}" }).then((r) => r.status, () => 0);
    if (status === 401) break;
    if (Date.now() > deadline || bot.exitCode !== null) throw new Error("the Poe bot did not start");
    await Bun.sleep(100);
  }
  return {
    url,
    queries: () =>
      log
        .split("\n")
        .filter((line) => line.includes('"msg":"poe query"'))
        .map((line) => JSON.parse(line) as { reranked?: boolean; outcome?: string }),
    async stop() {
      bot.kill("SIGTERM");
      await bot.exited;
    },
  };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const stats = (timings: Timing[]) => ({
  queries: timings.length,
  reranked: timings.filter((t) => t.reranked === true).length,
  p50_ms: round(percentile(timings.map((t) => t.done_ms), 50)),
  max_ms: round(Math.max(...timings.map((t) => t.done_ms))),
  first_text_p50_ms: round(percentile(timings.map((t) => t.first_text_ms), 50)),
});

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: { pages: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log("usage: bun run bench/experiments/poe-answer.ts [--pages N (1000)]");
    process.exit(0);
  }
  const pages = pagesOption(values.pages);
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const bench = await runNotionImportBench(pages);
  try {
    const runs: Record<string, Timing[]> = {};
    for (const tier of ["starter", "pro"] as const) {
      // the same user (sub) as the importer's token: the collection is theirs
      const token = await bench.api.mint(bench.sub, tier, 365 * 24 * 3600);
      const bot = await startBot({ MEMORY_API_URL: bench.api.url, POE_MEMORY_TOKEN: token, POE_COLLECTION_ID: bench.collection });
      try {
        const timings: Timing[] = [];
        for (const pass of ["cold", "cached"] as const) {
          for (const question of QUESTIONS) {
            const logged = bot.queries().length;
            const t = await ask(bot.url, question);
            // the bot logs the query just after `done`
            for (let i = 0; i < 40 && bot.queries().length === logged; i++) await Bun.sleep(5);
            const reranked = bot.queries()[logged]?.reranked;
            timings.push({ question, pass, ...t, reranked });
            say(`bench/poe-answer: ${tier} ${pass} ${String(t.done_ms).padStart(7)} ms  quoted ${t.quoted}  reranked ${reranked}  ${question}`);
          }
        }
        runs[tier] = timings;
      } finally {
        await bot.stop();
      }
    }
    const summary = (tier: string, pass: Timing["pass"]) => stats(runs[tier]!.filter((t) => t.pass === pass));
    const result = {
      generated_at: new Date().toISOString(),
      command: `bun run bench/experiments/poe-answer.ts --pages ${pages}`,
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", bun: Bun.version, load_average_at_start: loadAtStart, load_average_at_end: loadavg().map((x) => round(x, 2)) },
      memory_api: "embedded, same process as bench/experiments/notion-import.ts",
      collection: { pages: (bench.result.export as { pages: number }).pages, memories: (bench.result.first_import as { chunks: number }).chunks },
      measured: "request → done event, over HTTP to `bun run poe-bot` (top_k 3; hybrid + a semantic relevance check per question)",
      starter_hybrid: { cold: summary("starter", "cold"), cached: summary("starter", "cached") },
      pro_hybrid_reranked: { cold: summary("pro", "cold"), cached: summary("pro", "cached") },
      queries: runs,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "poe-answer.json"), `${JSON.stringify(result, null, 2)}\n`);
    const line = (name: string, s: { cold: ReturnType<typeof stats>; cached: ReturnType<typeof stats> }) =>
      `${name}: cold p50 ${s.cold.p50_ms} ms, max ${s.cold.max_ms} ms; cached p50 ${s.cached.p50_ms} ms, max ${s.cached.max_ms} ms`;
    console.log(`poe bot answer time over ${result.collection.memories} memories (${QUESTIONS.length} questions each):`);
    console.log(`  ${line("starter token (hybrid)", result.starter_hybrid)}`);
    console.log(`  ${line("pro token (hybrid + rerank)", result.pro_hybrid_reranked)}`);
    console.log(`written to ${join("bench", "results", "poe-answer.json")}`);
  } finally {
    await bench.api.stop();
  }
}
