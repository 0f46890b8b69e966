/**
 * The mem0 peer: its Python environment and its server, for the bench to start (README.md here).
 *
 * The venv is `.cache/venv-mem0`, installed once from the pinned `requirements.txt` (PyPI only),
 * the same way scripts/python-venv.ts makes the project's other venvs: a marker file holding the
 * requirements is written last, so an interrupted install is redone and a changed pin reinstalls.
 *
 *   bun run bench/peers/mem0/peer.ts setup                                # the venv (idempotent)
 *   bun run bench/peers/mem0/peer.ts serve [--port 8790] [--dir DIR] [--threads 1]   # foreground
 *
 * Library:
 *
 *   import { startMem0Peer } from "./bench/peers/mem0/peer";
 *   const peer = await startMem0Peer({ port: 8790, dataDir: ".cache/mem0-peer/bench-2000" });
 *   await fetch(`${peer.url}/search`, { method: "POST", body: JSON.stringify({ query: "…" }), headers: { "content-type": "application/json" } });
 *   await peer.stop();
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { runLogged } from "../../../scripts/python-venv";

export const PEER_DIR = import.meta.dir;
export const ROOT = resolve(PEER_DIR, "..", "..", "..");
export const VENV_DIR = join(ROOT, ".cache", "venv-mem0");
export const REQUIREMENTS = join(PEER_DIR, "requirements.txt");
export const SERVER = join(PEER_DIR, "server.py");
/** Default parent of data directories (FAISS index, history.db, mem0's home). */
export const DATA_ROOT = join(ROOT, ".cache", "mem0-peer");

/** Returns the venv's python, installing it first when missing or outdated (prints progress). */
export async function ensureMem0Venv(log: (line: string) => void = (line) => console.error(`[venv-mem0] ${line}`)): Promise<string> {
  const python = join(VENV_DIR, "bin", "python");
  const marker = join(VENV_DIR, ".requirements");
  const wanted = readFileSync(REQUIREMENTS, "utf8");
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, "utf8") === wanted) return python;

  log(`installing ${REQUIREMENTS} from PyPI into ${VENV_DIR} (once; cached afterwards; ~400 MB)`);
  rmSync(VENV_DIR, { recursive: true, force: true });
  mkdirSync(dirname(VENV_DIR), { recursive: true });
  const started = Date.now();
  await runLogged(["python3", "-m", "venv", VENV_DIR], log);
  await runLogged([python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-r", REQUIREMENTS], log);
  writeFileSync(marker, wanted);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}

export interface Mem0PeerOptions {
  port?: number;
  /** FAISS index, history.db and mem0's home; reused when it already holds data. Default .cache/mem0-peer/default. */
  dataDir?: string;
  /** Model folder. Default models/all-minilm-l6-v2 (what the Memory API uses by default). */
  modelDir?: string;
  /** onnxruntime intra-op threads. Default 1 (as the Memory API's embed worker). */
  threads?: number;
  /** MEM0_PEER_SAVE_EVERY_INSERT: mem0's stock save-after-every-insert (slow ingest). Default false. */
  saveEveryInsert?: boolean;
  /** Where the server's stdout/stderr go. Default <dataDir>/server.log. */
  logPath?: string;
  /** How long to wait for /health. Default 120 s. */
  timeoutMs?: number;
}

export interface Mem0Peer {
  url: string;
  pid: number;
  proc: Subprocess;
  dataDir: string;
  logPath: string;
  /** SIGTERM, then SIGKILL after 10 s; waits for the exit. */
  stop(): Promise<void>;
}

/** Starts server.py (installing the venv first if needed) and resolves once /health answers. */
export async function startMem0Peer(opts: Mem0PeerOptions = {}): Promise<Mem0Peer> {
  const python = await ensureMem0Venv();
  const port = opts.port ?? 8790;
  const dataDir = resolve(ROOT, opts.dataDir ?? join(DATA_ROOT, "default"));
  mkdirSync(dataDir, { recursive: true });
  const logPath = opts.logPath ?? join(dataDir, "server.log");
  const log = createWriteStream(logPath, { flags: "w" });
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MEM0_PEER_DIR: dataDir,
    MEM0_PEER_MODEL_DIR: resolve(ROOT, opts.modelDir ?? join("models", "all-minilm-l6-v2")),
    MEM0_PEER_ORT_THREADS: String(opts.threads ?? 1),
    MEM0_PEER_SAVE_EVERY_INSERT: opts.saveEveryInsert ? "1" : "0",
    MEM0_TELEMETRY: "False",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const proc = Bun.spawn([python, SERVER, "--host", "127.0.0.1", "--port", String(port)], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      for await (const chunk of stream as ReadableStream<Uint8Array>) log.write(chunk);
    })();
  }
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
    }
    log.end();
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let last = "no answer";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`mem0 peer exited (${proc.exitCode}); see ${logPath}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      last = String(res.status);
      await res.arrayBuffer();
      if (res.ok) return { url, pid: proc.pid, proc, dataDir, logPath, stop };
    } catch (e) {
      last = String((e as Error).message ?? e);
    }
    await Bun.sleep(250);
  }
  await stop();
  throw new Error(`mem0 peer not ready on ${url} after ${Math.round((opts.timeoutMs ?? 120_000) / 1000)} s (last: ${last}); see ${logPath}`);
}

if (import.meta.main) {
  const { positionals, values } = parseArgs({
    args: Bun.argv.slice(2),
    allowPositionals: true,
    options: { port: { type: "string" }, dir: { type: "string" }, threads: { type: "string" }, "model-dir": { type: "string" } },
  });
  const command = positionals[0] ?? "setup";
  if (command === "setup") {
    console.log(await ensureMem0Venv());
  } else if (command === "serve") {
    const python = await ensureMem0Venv();
    const args = [python, SERVER, "--port", values.port ?? "8790"];
    if (values.dir) args.push("--dir", resolve(values.dir));
    if (values.threads) args.push("--threads", values.threads);
    if (values["model-dir"]) args.push("--model-dir", resolve(values["model-dir"]));
    console.error(`$ ${args.join(" ")}`);
    const proc = Bun.spawn(args, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => proc.kill(signal));
    process.exit(await proc.exited);
  } else {
    console.error("usage: bun run bench/peers/mem0/peer.ts [setup | serve [--port N] [--dir DIR] [--threads N] [--model-dir DIR]]");
    process.exit(2);
  }
}
