// nginx from Debian (nginx-light 1.22) with the repository's nginx.conf, prefix .stack/nginx.
// The two environment-specific includes (listen line, upstream servers) are written here;
// see the comment at the top of nginx.conf for how compose.yaml provides its own.
import { existsSync, lstatSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, httpProbe, run, startDetached } from "./process.ts";

const cfg = config.nginx;
const dir = join(config.stackDir, "nginx");
const repoConf = join(config.root, "nginx.conf");
const confLink = join(dir, "nginx.conf");
const BIN = "/usr/sbin/nginx";
/** -p needs the trailing slash: nginx concatenates it with relative paths */
const prefix = `${dir}/`;

function writeIncludes(): void {
  writeFileSync(join(dir, "listen.conf"), `# written by scripts/stack/nginx.ts\nlisten ${HOST}:${cfg.port} backlog=4096;\n`);
  const bound = cfg.maxConnsPerWorker > 0 ? ` max_conns=${cfg.maxConnsPerWorker}` : "";
  const servers = cfg.upstreams.map((p) => `server ${HOST}:${p} max_fails=3 fail_timeout=5s${bound};`).join("\n");
  writeFileSync(
    join(dir, "upstream-servers.conf"),
    `# written by scripts/stack/nginx.ts (STACK_NGINX_UPSTREAMS=${cfg.upstreams.join(",")}, STACK_NGINX_MAX_CONNS=${cfg.maxConnsPerWorker})\n${servers}\n`,
  );
  // a symlink, not a copy: includes resolve next to it, edits to nginx.conf apply on restart
  let current: string | null = null;
  try {
    if (lstatSync(confLink).isSymbolicLink()) current = readlinkSync(confLink);
  } catch {}
  if (current !== repoConf) {
    rmSync(confLink, { force: true });
    symlinkSync(repoConf, confLink);
  }
}

const nginxArgs = (...extra: string[]) => ["-p", prefix, "-c", confLink, "-e", "stderr", ...extra];

export const nginx: Service = {
  name: "nginx",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port],
  pidFile: join(dir, "nginx.pid"), // also the `pid` of nginx.conf: the master writes the same number
  logFile: join(dir, "nginx.log"),
  match: "nginx",
  stopSignal: "SIGTERM", // fast shutdown; SIGQUIT would wait for keep-alive clients
  stopTimeoutMs: 15_000,
  startTimeoutMs: 30_000,

  apt: () => [{ pkg: "nginx-light", present: () => existsSync(BIN) }],

  async install() {
    ensureDir(dir);
    writeIncludes();
  },

  async launch() {
    writeIncludes();
    try {
      run(BIN, nginxArgs("-t", "-q"));
    } catch (e) {
      throw new StackError(`nginx.conf does not pass nginx -t:\n${(e as Error).message}`);
    }
    return startDetached({ cmd: BIN, args: nginxArgs("-g", "daemon off;"), cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: () => httpProbe(`http://${HOST}:${cfg.port}/nginx-health`, (s) => s === 200),
};

/** re-read nginx.conf and the includes without dropping connections (SIGHUP to the master) */
export function reloadNginx(pid: number): void {
  writeIncludes();
  run(BIN, nginxArgs("-t", "-q"));
  process.kill(pid, "SIGHUP");
}
