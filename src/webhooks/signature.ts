import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The signature of a delivery, in the `Memory-Signature` header: `t=<unix seconds>,v1=<hex>`,
 * where v1 is HMAC-SHA256 with the webhook's secret over `<t>.<raw body>`. Signing the time
 * with the body lets a receiver refuse replays older than its tolerance.
 */
export const SIGNATURE_HEADER = "memory-signature";

const SECRET_PREFIX = "whsec_";

/** A new signing secret: 32 random bytes, base64url, with a recognisable prefix. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64url");
}

export function signPayload(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * A receiver's check (exported for tests, docs and clients written in TypeScript): the header
 * parses, one v1 signature matches in constant time, and its time is within `toleranceSeconds`
 * of `nowSeconds`.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | null,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (header === null) return false;
  const parts = header.split(",").map((p) => p.trim().split("="));
  const rawTime = parts.find(([k]) => k === "t")?.[1] ?? "";
  if (!/^\d{1,15}$/.test(rawTime)) return false;
  const t = Number(rawTime);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, body, t).split("v1=")[1]!, "hex");
  return parts.some(([k, v]) => {
    if (k !== "v1" || v === undefined || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, "hex"), expected);
  });
}
