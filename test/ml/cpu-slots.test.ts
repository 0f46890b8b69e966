import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CpuSlots } from "../../src/ml/cpu-slots.ts";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "cpu-slots-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A separate process that takes every slot, says so, holds them until told to let go, then says it let go. */
async function holderProcess(dir: string, count: number) {
  const script = `
    import { CpuSlots } from ${JSON.stringify(new URL("../../src/ml/cpu-slots.ts", import.meta.url).pathname)};
    import { writeFileSync } from "node:fs";
    const slots = CpuSlots.open(${JSON.stringify(dir)}, ${count});
    const held = Array.from({ length: ${count} }, () => slots.acquire());
    console.log("held");
    for await (const _ of console) break; // a line on stdin: let go
    writeFileSync(${JSON.stringify(join(dir, "released"))}, "");
    for (const s of held) slots.release(s);
    console.log("released");
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const line = async () => new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
  expect(await line()).toContain("held");
  return {
    letGo: () => {
      proc.stdin.write("go\n");
      proc.stdin.flush();
    },
    done: async () => {
      await proc.exited;
    },
  };
}

describe("CpuSlots: a machine-wide cap on concurrent work", () => {
  test("every slot can be taken once; a taken slot is free again after release", () => {
    const dir = freshDir();
    const slots = CpuSlots.open(dir, 2)!;
    expect(slots).not.toBeNull();
    expect(slots.size).toBe(2);
    const a = slots.acquire();
    const b = slots.acquire();
    expect(new Set([a, b])).toEqual(new Set([0, 1]));
    expect(() => slots.acquire()).toThrow("all 2 CPU slots are already held by this caller");
    slots.release(a);
    expect(slots.acquire()).toBe(a);
    slots.release(a);
    slots.release(b);
    slots.close();
  });

  test("a slot held by another process is waited for, and taken only once it is let go", async () => {
    const dir = freshDir();
    const holder = await holderProcess(dir, 1);
    const waiter = Bun.spawn(
      [
        process.execPath,
        "-e",
        `import { CpuSlots } from ${JSON.stringify(new URL("../../src/ml/cpu-slots.ts", import.meta.url).pathname)};
         import { existsSync } from "node:fs";
         const s = CpuSlots.open(${JSON.stringify(dir)}, 1); s.acquire();
         console.log(existsSync(${JSON.stringify(join(dir, "released"))}) ? "after" : "before");`,
      ],
      { stdout: "pipe" },
    );
    await Bun.sleep(300); // the waiter is blocked on the slot by now (were it not, it printed "before")
    holder.letGo(); // the holder marks "released", then lets go
    await holder.done();
    expect((await new Response(waiter.stdout).text()).trim()).toBe("after");
    const slots = CpuSlots.open(dir, 1)!;
    expect(slots.acquire()).toBe(0);
    slots.release(0);
    slots.close();
  });

  test("a process that dies holding a slot does not keep it", async () => {
    const dir = freshDir();
    const script = `
      import { CpuSlots } from ${JSON.stringify(new URL("../../src/ml/cpu-slots.ts", import.meta.url).pathname)};
      CpuSlots.open(${JSON.stringify(dir)}, 1).acquire();
      process.exit(0);`;
    expect(Bun.spawnSync([process.execPath, "-e", script]).exitCode).toBe(0);
    const slots = CpuSlots.open(dir, 1)!;
    expect(slots.acquire()).toBe(0);
    slots.release(0);
    slots.close();
  });

  test("a count below 1 means no cap (null)", () => {
    expect(CpuSlots.open(freshDir(), 0)).toBeNull();
  });
});
