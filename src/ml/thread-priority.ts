import { dlopen, ptr } from "bun:ffi";

/**
 * Lowers the scheduling priority of the calling thread (Linux: the nice value is per thread,
 * and threads created afterwards, such as onnxruntime's, inherit it). A niced inference thread
 * still uses idle CPU fully, but under contention the request threads win ~9:1 at nice 10.
 * Best effort: false where unsupported.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0 || process.platform !== "linux") return false;
  try {
    const libc = dlopen("libc.so.6", { setpriority: { args: ["i32", "u32", "i32"], returns: "i32" } });
    // PRIO_PROCESS (0) with who = 0: on Linux/NPTL, the calling thread only
    const ok = libc.symbols.setpriority(0, 0, Math.min(19, Math.round(nice))) === 0;
    libc.close();
    return ok;
  } catch {
    return false;
  }
}

const SCHED_IDLE = 5;

/**
 * Puts the calling thread (and the threads it starts afterwards) in Linux's SCHED_IDLE class:
 * it runs only on CPU time no normal thread wants, and a waking request thread preempts it at
 * once and is placed on a CPU that runs only idle-class work. Stronger than any nice value
 * (nice 19 still gets ~1.5% of a contended core and delays wake-ups). Best effort: false
 * where unsupported; no privilege is needed to lower one's own policy.
 */
export function useIdleScheduling(): boolean {
  if (process.platform !== "linux") return false;
  try {
    const libc = dlopen("libc.so.6", { sched_setscheduler: { args: ["i32", "i32", "ptr"], returns: "i32" } });
    const param = new Int32Array([0]); // struct sched_param { int sched_priority; } = 0
    const ok = libc.symbols.sched_setscheduler(0, SCHED_IDLE, ptr(param)) === 0;
    libc.close();
    return ok;
  } catch {
    return false;
  }
}

const CLOCK_THREAD_CPUTIME_ID = 3;

/**
 * A clock of the CPU time the calling thread has used, in ms (Linux), or null where it cannot
 * be read. Compared with wall time it tells how long the thread waited for a CPU meanwhile.
 */
export function threadCpuClock(): (() => number) | null {
  if (process.platform !== "linux") return null;
  try {
    const libc = dlopen("libc.so.6", { clock_gettime: { args: ["i32", "ptr"], returns: "i32" } });
    const timespec = new BigInt64Array(2);
    const at = ptr(timespec);
    const read = () => {
      if (libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, at) !== 0) return Number.NaN;
      return Number(timespec[0]!) * 1000 + Number(timespec[1]!) / 1e6;
    };
    return Number.isNaN(read()) ? null : read;
  } catch {
    return null;
  }
}
