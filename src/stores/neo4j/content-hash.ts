import { createHash } from "node:crypto";

/** A short content fingerprint (64 bits of SHA-256, hex): tells a change, reveals nothing useful. */
export function contentHash(content: string): string {
  return createHash("sha256").update(content).digest("hex").slice(0, 16);
}
