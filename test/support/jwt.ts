/** An independent JWT encoder for tests, so attack tokens are not made by the code under test. */

const b64url = (data: string | Uint8Array) =>
  Buffer.from(typeof data === "string" ? new TextEncoder().encode(data) : data).toString("base64url");

export async function hs256(secret: string, payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", ...header }));
  const body = b64url(JSON.stringify(payload));
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${head}.${body}`)));
  return `${head}.${body}.${b64url(signature)}`;
}

export function unsigned(payload: Record<string, unknown>) {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}.`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function accessClaims(sub: string, extra: Record<string, unknown> = {}) {
  return { sub, type: "access", tier: "free", iat: nowSeconds(), exp: nowSeconds() + 3600, ...extra };
}
