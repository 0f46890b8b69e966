// Which local addresses listen on a TCP port, from /proc/net/tcp{,6} (Linux): to check that a
// service the stack starts is bound to loopback only.
import { existsSync, readFileSync } from "node:fs";

const LISTEN = "0A";

function ipv4(hex: string): string {
  // little-endian 32-bit
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const word = hex.slice(i, i + 8).match(/../g)!.reverse().join(""); // each 32-bit group is little-endian
    words.push(word.slice(0, 4), word.slice(4, 8));
  }
  const text = words.map((w) => parseInt(w, 16).toString(16)).join(":");
  if (text === "0:0:0:0:0:0:0:0") return "::";
  if (text === "0:0:0:0:0:0:0:1") return "::1";
  if (text.startsWith("0:0:0:0:0:ffff:")) return `::ffff:${ipv4(hex.slice(24))}`;
  return text;
}

/** The addresses with a listening socket on `port` (empty when nothing listens, or not Linux). */
export function listenAddresses(port: number): string[] {
  const out: string[] = [];
  for (const [file, decode] of [["/proc/net/tcp", ipv4], ["/proc/net/tcp6", ipv6]] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== LISTEN) continue;
      const [addr, portHex] = fields[1]!.split(":");
      if (parseInt(portHex!, 16) === port) out.push(decode(addr!));
    }
  }
  return out;
}

export const isLoopback = (address: string) => address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
