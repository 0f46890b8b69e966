import { createHash, timingSafeEqual } from "node:crypto";

/**
 * An API key reads `mapi_<id>_<secret>`: a recognisable prefix (secret scanners, logs), a public
 * 12-character id (how the key is found and named in URLs) and a 43-character secret, both
 * base62 so a double-click selects the whole key. The secret is 256 random bits; only its
 * SHA-256 is stored (a slow hash adds nothing to a secret of full entropy).
 */
export const API_KEY_PREFIX = "mapi_";
const ID_CHARS = 12;
const SECRET_CHARS = 43; // 43 × log2(62) ≈ 256 bits
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY = new RegExp(`^${API_KEY_PREFIX}([0-9A-Za-z]{${ID_CHARS}})_([0-9A-Za-z]{${SECRET_CHARS}})$`);
export const API_KEY_ID_PATTERN = `^[0-9A-Za-z]{${ID_CHARS}}$`;

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export interface MintedApiKey {
  id: string;
  /** The whole key, shown to its owner once. */
  key: string;
  secretHash: string;
}

export function mintApiKey(): MintedApiKey {
  const id = randomBase62(ID_CHARS);
  const secret = randomBase62(SECRET_CHARS);
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

export const prefixOf = (id: string) => `${API_KEY_PREFIX}${id}`;

/** Whether a bearer credential is meant as an API key (JWTs start with `eyJ`). */
export const looksLikeApiKey = (token: string) => token.startsWith(API_KEY_PREFIX);

export function parseApiKey(token: string): { id: string; secret: string } | null {
  const match = KEY.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares in constant time: how much of a guessed secret's hash matched never shows in timing. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, "hex");
  const given = createHash("sha256").update(secret).digest();
  return stored.length === given.length && timingSafeEqual(stored, given);
}
