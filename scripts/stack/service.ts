// What the CLI needs from each service module, and the start/stop lifecycle they share.
import type { AptNeed } from "./apt.ts";
import { HOST } from "./config.ts";
import { StackError, green, portBusy, runningPid, say, stopPid, removePid, waitReady, yellow } from "./process.ts";

export interface Service {
  name: string;
  /** what clients connect to, for the table */
  address: string;
  /** ports that must be free before starting (the first is the service's own) */
  ports: number[];
  pidFile: string;
  /** the main log (the process's stdout and stderr) */
  logFile: string;
  /** other logs the service writes itself, shown by `logs <svc>` */
  extraLogs?: () => string[];
  /** substring of the process command line, to tell our process from a reused pid */
  match: string;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  /** Debian packages needed */
  apt: () => AptNeed[];
  /** everything else that has to exist before the first start (venv, build, initdb); idempotent */
  install: () => Promise<void>;
  /** starts the detached process and writes the pidfile; returns the pid */
  launch: () => Promise<number>;
  /** does it answer? */
  probe: () => Promise<boolean>;
  /** after the first successful probe of this start (e.g. create role and database) */
  afterReady?: () => Promise<void>;
  /** how long a start may take before it is reported as failed */
  startTimeoutMs: number;
  /** services that must answer before this one starts (its install runs meanwhile) */
  after?: readonly Service[];
  /**
   * The service this one cannot outlive: stopping, starting or restarting that one does the same
   * to this one (Milvus' second query node registers through the standalone's embedded etcd and
   * does not come back by itself once that is gone).
   */
  partOf?: Service;
  /** retry once with another setting when a start failed (Milvus: SIGILL → avx2) */
  retryAfterFailure?: (err: StackError) => boolean;
}

export type UpResult = { pid: number; state: "started" | "already running" };

export async function startService(svc: Service): Promise<UpResult> {
  const pid = runningPid(svc.pidFile, svc.match);
  if (pid !== null) {
    if (await svc.probe()) {
      say(svc.name, `already running (pid ${pid})`);
      return { pid, state: "already running" };
    }
    say(svc.name, `pid ${pid} is running but not answering yet; waiting`);
    await waitReady({ name: svc.name, pid, logFile: svc.logFile, timeoutMs: svc.startTimeoutMs, probe: svc.probe });
    await svc.afterReady?.();
    say(svc.name, green(`ready (pid ${pid})`));
    return { pid, state: "already running" };
  }
  for (const port of svc.ports) {
    if (await portBusy(HOST, port)) {
      throw new StackError(
        `${HOST}:${port} is already taken by a process this stack did not start (no live pid in ${svc.pidFile}). ` +
          `Stop that process, or move ${svc.name} to another port (see scripts/stack/config.ts for the STACK_*_PORT variables).`,
      );
    }
  }
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const newPid = await svc.launch();
    say(svc.name, `started pid ${newPid}; waiting for it to answer on ${svc.address}`);
    try {
      await waitReady({ name: svc.name, pid: newPid, logFile: svc.logFile, timeoutMs: svc.startTimeoutMs, probe: svc.probe });
    } catch (e) {
      await stopPid(newPid, "SIGKILL", 5000);
      removePid(svc.pidFile);
      if (attempt === 1 && e instanceof StackError && svc.retryAfterFailure?.(e)) continue;
      throw e;
    }
    await svc.afterReady?.();
    say(svc.name, green(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${newPid})`));
    return { pid: newPid, state: "started" };
  }
}

export async function stopService(svc: Service): Promise<"stopped" | "killed" | "not running"> {
  const pid = runningPid(svc.pidFile, svc.match);
  if (pid === null) {
    say(svc.name, "not running");
    return "not running";
  }
  say(svc.name, `stopping pid ${pid} (${svc.stopSignal})`);
  const r = await stopPid(pid, svc.stopSignal, svc.stopTimeoutMs);
  removePid(svc.pidFile);
  if (r === "killed") {
    say(svc.name, yellow(`did not exit within ${svc.stopTimeoutMs / 1000} s: killed (SIGKILL)`));
    return "killed";
  }
  say(svc.name, "stopped");
  return "stopped";
}

export type Health = { pid: number | null; status: "up" | "down" | "not answering" };

export async function health(svc: Service): Promise<Health> {
  const pid = runningPid(svc.pidFile, svc.match);
  if (pid === null) return { pid: null, status: "down" };
  return { pid, status: (await svc.probe()) ? "up" : "not answering" };
}
