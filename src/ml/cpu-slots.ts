import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { dlopen } from "bun:ffi";

/**
 * A machine-wide cap on how many threads run one kind of CPU-heavy work at once, shared by
 * every process on the box (the workers of a cluster, or several clusters): `count` lock
 * files in `dir`, one held (flock) per running slice of work. The kernel drops a lock when
 * its holder dies, so a crashed worker never leaks a slot.
 *
 * Why: on this kind of VM, low-priority threads (SCHED_IDLE, nice 19) that keep every core
 * busy still raise other threads' tail latency several-fold; one idle core in reserve does not
 * (bench/README.md, "Tier isolation"). So the reranker of each worker may use idle CPU, but
 * all of them together take at most `count` cores.
 *
 * `acquire` blocks the calling thread: call it from a worker thread, never the event loop.
 */
export class CpuSlots {
  private readonly fds: number[];
  private readonly flock: (fd: number, op: number) => number;
  private readonly closeLib: () => void;
  private readonly held: boolean[];
  private next = 0;

  private constructor(fds: number[], flock: (fd: number, op: number) => number, closeLib: () => void) {
    this.fds = fds;
    this.held = fds.map(() => false);
    this.flock = flock;
    this.closeLib = closeLib;
  }

  /** null where flock is unavailable (not Linux, no libc): the work then runs uncapped. */
  static open(dir: string, count: number): CpuSlots | null {
    if (process.platform !== "linux" || !Number.isInteger(count) || count < 1) return null;
    try {
      const libc = dlopen("libc.so.6", { flock: { args: ["i32", "i32"], returns: "i32" } });
      mkdirSync(dir, { recursive: true });
      const fds = Array.from({ length: count }, (_, i) => openSync(join(dir, `slot-${i}.lock`), "a"));
      return new CpuSlots(fds, (fd, op) => libc.symbols.flock(fd, op), () => libc.close());
    } catch {
      return null;
    }
  }

  get size(): number {
    return this.fds.length;
  }

  /** Takes a free slot, or waits for one (turns rotate, so the wait is shared fairly). */
  acquire(): number {
    const mine = this.fds.length;
    for (let i = 0; i < mine; i++) {
      if (!this.held[i] && this.flock(this.fds[i]!, LOCK_EX | LOCK_NB) === 0) return this.take(i);
    }
    let slot = -1;
    for (let tries = 0; tries < mine && slot < 0; tries++) {
      const candidate = this.next;
      this.next = (this.next + 1) % mine;
      if (!this.held[candidate]) slot = candidate;
    }
    if (slot < 0) throw new Error(`all ${mine} CPU slots are already held by this caller`);
    while (this.flock(this.fds[slot]!, LOCK_EX) !== 0) {
      // EINTR: try again
    }
    return this.take(slot);
  }

  release(slot: number): void {
    if (!this.held[slot]) return;
    this.held[slot] = false;
    this.flock(this.fds[slot]!, LOCK_UN);
  }

  private take(slot: number): number {
    this.held[slot] = true;
    return slot;
  }

  close(): void {
    for (const fd of this.fds) closeSync(fd);
    this.closeLib();
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
