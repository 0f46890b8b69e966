import { dlopen } from "bun:ffi";

/**
 * Lowers the scheduling priority of the calling thread (Linux: the nice value is per thread,
 * and threads created afterwards, such as onnxruntime's, inherit it). A niced inference thread
 * still uses idle CPU fully, but under contention the request threads win ~9:1 at nice 10, so
 * premium reranking cannot slow other tiers down. Best effort: false where unsupported.
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
