/** What the machine is and how busy it was: context for every number the bench reports. */
import { cpus, loadavg, totalmem } from "node:os";
import { readdirSync, readFileSync } from "node:fs";

export interface CpuSnapshot {
  busy: number;
  total: number;
}

/** Aggregate CPU jiffies from /proc/stat (Linux); zeros elsewhere. */
export function cpuSnapshot(): CpuSnapshot {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Share of all cores busy between two snapshots, 0..1 (NaN when unknown). */
export function busyShare(a: CpuSnapshot, b: CpuSnapshot): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : NaN;
}

export function machine(ohaBin?: string) {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model ?? "unknown",
    memory_gib: Math.round(totalmem() / 2 ** 30),
    bun: Bun.version,
    nginx: (() => {
      try {
        const r = Bun.spawnSync(["/usr/sbin/nginx", "-v"]);
        return r.stderr.toString().trim().replace("nginx version: ", "");
      } catch {
        return "unknown";
      }
    })(),
    oha: ohaBin ? ohaVersion(ohaBin) : undefined,
    load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function ohaVersion(bin: string): string {
  try {
    return Bun.spawnSync([bin, "--version"]).stdout.toString().trim();
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------------------------------------
// Where the CPU went: per-process ticks from /proc, grouped by role.

export type Role = "api" | "nginx" | "redis" | "postgres" | "milvus" | "neo4j" | "client" | "hello" | "bench" | "other";

interface ProcTicks {
  ticks: number;
  role: Role;
}

const CLK_TCK = 100; // USER_HZ on Linux
const roleCache = new Map<string, Role>(); // "pid:starttime" → role

function classify(pid: number, comm: string, ppid: number, clusterPid: number | undefined): Role {
  let cmd = "";
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {}
  if (pid === process.pid) return "bench";
  if (comm === "nginx") return "nginx";
  if (comm.startsWith("redis")) return "redis";
  if (comm === "postgres" || cmd.startsWith("postgres")) return "postgres";
  if (comm === "milvus" || cmd.includes("milvus run")) return "milvus";
  if (comm === "java" && cmd.includes("neo4j")) return "neo4j";
  if (cmd.includes("bench/hello.ts")) return "hello";
  if (comm === "oha" || cmd.includes("bench/loader.ts")) return "client";
  if (clusterPid !== undefined && (pid === clusterPid || ppid === clusterPid)) return "api";
  return "other";
}

/** CPU ticks of every process now, with its role (the API = the cluster `clusterPid` and its workers). */
export function processTicks(clusterPid?: number): Map<string, ProcTicks> {
  const out = new Map<string, ProcTicks>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const p of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, "utf8");
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" ");
    // fields after ")": state(0) ppid(1) … utime(11) stime(12) … starttime(19)
    const ppid = Number(f[1]);
    const ticks = Number(f[11]) + Number(f[12]);
    const key = `${p}:${f[19]}`;
    let role = roleCache.get(key);
    if (!role) {
      role = classify(Number(p), comm, ppid, clusterPid);
      roleCache.set(key, role);
    }
    out.set(key, { ticks, role });
  }
  return out;
}

/** Cores used per role between two snapshots taken `seconds` apart. */
export function coresByRole(a: Map<string, ProcTicks>, b: Map<string, ProcTicks>, seconds: number): Partial<Record<Role, number>> {
  const sum: Partial<Record<Role, number>> = {};
  for (const [key, end] of b) {
    const start = a.get(key)?.ticks ?? 0; // a process born during the window counts from 0
    const d = end.ticks - start;
    if (d > 0) sum[end.role] = (sum[end.role] ?? 0) + d;
  }
  for (const role of Object.keys(sum) as Role[]) sum[role] = Math.round((sum[role]! / CLK_TCK / seconds) * 100) / 100;
  return sum;
}

export interface Meter {
  /** share of all cores busy, and cores per role (plus "unattributed": busy time no live process accounts for) */
  stop(clientCores?: number): { busy: number; cores: Partial<Record<Role | "unattributed", number>> };
}

/** Starts measuring the machine's CPU: total busy share and who used it. */
export function startMeter(clusterPid?: number): Meter {
  const cpu0 = cpuSnapshot();
  const procs0 = processTicks(clusterPid);
  const t0 = performance.now();
  return {
    stop(clientCores) {
      const seconds = (performance.now() - t0) / 1000;
      const busy = busyShare(cpu0, cpuSnapshot());
      const cores: Partial<Record<Role | "unattributed", number>> = coresByRole(procs0, processTicks(clusterPid), seconds);
      // a load generator that exited before stop() is gone from /proc: its own rusage says what it used
      if (clientCores !== undefined) cores.client = Math.round(((cores.client ?? 0) + clientCores) * 100) / 100;
      const attributed = Object.values(cores).reduce((a, b) => a + (b ?? 0), 0);
      const total = busy * cpus().length;
      if (Number.isFinite(total)) cores.unattributed = Math.max(0, Math.round((total - attributed) * 100) / 100);
      return { busy, cores };
    },
  };
}
