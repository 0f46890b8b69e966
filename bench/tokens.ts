import { join } from "node:path";
import { ROOT } from "./oha";

/** A one-day token signed with `secret`, minted by the project's token CLI (scripts/token.ts). */
export async function mintToken(secret: string, sub: string, tier: string): Promise<string> {
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "scripts", "token.ts"), "--", "--sub", sub, "--tier", tier, "--days", "1"], {
    cwd: ROOT,
    env: { ...process.env, JWT_SECRET: secret },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`scripts/token.ts failed: ${err.trim()}`);
  return out.trim();
}
