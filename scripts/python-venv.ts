/**
 * Python virtual environments the project needs (test clients from PyPI), created idempotently
 * under `.cache/venv-<name>/` with pinned requirements. A marker file holding the requirements is
 * written last, so an interrupted install is redone and a changed pin reinstalls.
 *
 *   bun run scripts/python-venv.ts poe     # creates .cache/venv-poe with fastapi-poe
 *   bun run scripts/python-venv.ts mcp     # creates .cache/venv-mcp with the MCP Python SDK
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const PYTHON_VENVS = {
  /** The official Poe server-bot library; its client calls a bot the way Poe's servers do. */
  poe: ["fastapi-poe==0.0.83"],
  /** The Python client's dependency, its test runner, and its build backend (it is installed from clients/python without build isolation). */
  "python-client": ["httpx==0.28.1", "pytest==8.4.2", "hatchling==1.27.0"],
  /** The official MCP Python SDK: a second, independent client of /mcp and `bun run mcp`. */
  mcp: ["mcp==2.3.0"],
} as const satisfies Record<string, readonly string[]>;

export type VenvName = keyof typeof PYTHON_VENVS;

const ROOT = resolve(import.meta.dir, "..");

/** Runs a command, passing each line of its output to `log`; throws when it fails. */
export async function runLogged(cmd: string[], log: (line: string) => void): Promise<void> {
  log(`$ ${cmd.join(" ")}`);
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) log(`  ${line}`);
    }
    if (pending.trim()) log(`  ${pending}`);
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cmd.slice(0, 3).join(" ")} … exited with ${code}`);
}

/** Returns the venv's python, installing it first when missing or outdated (prints progress). */
export async function ensurePythonVenv(
  name: VenvName,
  log: (line: string) => void = (line) => console.error(`[venv-${name}] ${line}`),
): Promise<string> {
  const dir = join(ROOT, ".cache", `venv-${name}`);
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".requirements");
  const wanted = PYTHON_VENVS[name].join("\n");
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, "utf8") === wanted) return python;

  log(`installing ${PYTHON_VENVS[name].join(", ")} from PyPI into ${dir} (once; cached afterwards)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  const started = Date.now();
  await runLogged(["python3", "-m", "venv", dir], log);
  await runLogged([python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", ...PYTHON_VENVS[name]], log);
  writeFileSync(marker, wanted);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}

if (import.meta.main) {
  const name = process.argv[2];
  if (!name || !(name in PYTHON_VENVS)) {
    console.error(`usage: bun run scripts/python-venv.ts <${Object.keys(PYTHON_VENVS).join("|")}>`);
    process.exit(2);
  }
  console.log(await ensurePythonVenv(name as VenvName));
}
