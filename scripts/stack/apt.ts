// Debian packages the stack needs: installed once, together, only when something is missing.
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { StackError, isRoot, runStreaming, say } from "./process.ts";

export interface AptNeed {
  /** Debian package to install */
  pkg: string;
  /** already there? (usually: does the binary exist) */
  present: () => boolean;
}

const POLICY_RC_D = "/usr/sbin/policy-rc.d";

function listsPresent(): boolean {
  try {
    return readdirSync("/var/lib/apt/lists").some((f) => f.includes("_Packages"));
  } catch {
    return false;
  }
}

/**
 * Installs the packages whose `present()` is false. `apt-get update` runs at most once, and
 * only when the package lists are missing or the install fails for want of them. Package
 * maintainer scripts are stopped from starting system services (policy-rc.d answers 101):
 * a Debian redis-server or postgresql@15-main grabbing 6379/5432 would shadow ours.
 */
export async function ensurePackages(needs: AptNeed[]): Promise<void> {
  const missing = [...new Set(needs.filter((n) => !n.present()).map((n) => n.pkg))];
  if (missing.length === 0) return;
  if (!isRoot()) {
    throw new StackError(`missing Debian packages: ${missing.join(" ")}. Install them (sudo apt-get install ${missing.join(" ")}) or run the stack as root.`);
  }
  say("apt", `installing ${missing.join(" ")}`);
  const started = Date.now();
  const env = { DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_MODE: "l" };
  const aptOpts = ["-o", "DPkg::Lock::Timeout=300", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];
  const addedPolicy = !existsSync(POLICY_RC_D);
  if (addedPolicy) writeFileSync(POLICY_RC_D, "#!/bin/sh\n# written by scripts/stack while it installs packages\nexit 101\n", { mode: 0o755 });
  try {
    let updated = false;
    if (!listsPresent()) {
      await runStreaming("apt-get", [...aptOpts, "update"], { env, prefix: "apt" });
      updated = true;
    }
    const install = () => runStreaming("apt-get", [...aptOpts, "install", "-y", "--no-install-recommends", ...missing], { env, prefix: "apt" });
    try {
      await install();
    } catch (e) {
      if (updated) throw e;
      say("apt", "install failed with the current package lists; running apt-get update once and retrying");
      await runStreaming("apt-get", [...aptOpts, "update"], { env, prefix: "apt" });
      await install();
    }
  } finally {
    if (addedPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  const still = needs.filter((n) => !n.present()).map((n) => n.pkg);
  if (still.length) throw new StackError(`apt-get installed, but still missing: ${still.join(" ")}`);
  say("apt", `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
