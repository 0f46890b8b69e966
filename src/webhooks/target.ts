import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * Where webhooks may deliver. A webhook URL is the one place where the server sends requests to
 * addresses its users choose: left open, a user could make it call services that only the
 * server's network reaches (SSRF). So, besides the URL's form:
 * - `privateTargets: "deny"` refuses hosts that are, or resolve to, loopback, private, link-local,
 *   shared, multicast or reserved addresses: checked when the webhook is saved (literal
 *   addresses, `localhost`) and again at every delivery (what the name resolves to then);
 * - `allowedHosts`, when set, is the only hosts (exact names, case-insensitive) webhooks may use.
 */
export interface TargetPolicy {
  privateTargets: "allow" | "deny";
  allowedHosts: readonly string[] | null;
}

export const MAX_WEBHOOK_URL_CHARS = 2048;

/** Why a URL cannot be a webhook's, or null when it can (no DNS: see `checkResolvedTarget`). */
export function urlProblem(raw: string, policy: TargetPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `must use https or http, not ${url.protocol.slice(0, -1)}`;
  if (url.username !== "" || url.password !== "") return "must not carry credentials (sign with the webhook's secret instead)";
  if (url.hash !== "") return "must not have a #fragment";
  const host = hostOf(url);
  if (policy.allowedHosts !== null && !policy.allowedHosts.includes(host)) {
    return `host ${host} is not one this server delivers to (WEBHOOK_ALLOWED_HOSTS)`;
  }
  if (policy.privateTargets === "deny") {
    if (host === "localhost" || host.endsWith(".localhost")) return "must not point at this server's own network (localhost)";
    if (isIP(host) !== 0 && isPrivateAddress(host)) return `must not point at a private or reserved address (${host})`;
  }
  return null;
}

/** At delivery: with private targets denied, the host must not resolve to such an address. */
export async function checkResolvedTarget(
  raw: string,
  policy: TargetPolicy,
  resolve: (host: string) => Promise<string[]> = resolveAll,
): Promise<string | null> {
  const problem = urlProblem(raw, policy);
  if (problem !== null || policy.privateTargets === "allow") return problem;
  const host = hostOf(new URL(raw));
  if (isIP(host) !== 0) return null; // checked above
  const bad = (await resolve(host)).find((address) => isPrivateAddress(address));
  return bad ? `host ${host} resolves to a private or reserved address (${bad})` : null;
}

const resolveAll = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/** The host as compared: lower case, without IPv6 brackets or the root's trailing dot (`localhost.`). */
const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");

const V4_BLOCKED: [number, number][] = [
  [0x00000000, 8], // "this" network
  [0x0a000000, 8], // private
  [0x64400000, 10], // shared (CGNAT)
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata)
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, broadcast
];

function v4Number(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const n = v4Number(address);
    return V4_BLOCKED.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)));
  }
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isPrivateAddress(mapped[1]!);
  if (a === "::" || a === "::1") return true;
  const first = parseInt(a.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}
