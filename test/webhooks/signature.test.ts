import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { newWebhookSecret, signPayload, verifySignature } from "../../src/webhooks/signature";

describe("webhook signatures", () => {
  const secret = newWebhookSecret();
  const body = '{"type":"memory.changes","events":[]}';
  const now = 1_765_000_000;

  test("v1 is HMAC-SHA256 of `<t>.<body>` with the secret, as a receiver in any language computes it", () => {
    const header = signPayload(secret, body, now);
    const expected = createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    expect(header).toBe(`t=${now},v1=${expected}`);
  });

  test("verifies the signed body only: another body, secret or a stale time fails", () => {
    const header = signPayload(secret, body, now);
    expect(verifySignature(secret, body, header, { nowSeconds: now + 10 })).toBe(true);
    expect(verifySignature(secret, body + " ", header, { nowSeconds: now })).toBe(false);
    expect(verifySignature(newWebhookSecret(), body, header, { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, body, header, { nowSeconds: now + 301 })).toBe(false);
    expect(verifySignature(secret, body, header, { nowSeconds: now + 301, toleranceSeconds: 600 })).toBe(true);
    expect(verifySignature(secret, body, null)).toBe(false);
    expect(verifySignature(secret, body, "t=abc,v1=00", { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, body, `t=${now},v1=zz`, { nowSeconds: now })).toBe(false);
  });

  test("accepts the header when one of several v1 signatures matches (a receiver mid-rotation)", () => {
    const header = signPayload(secret, body, now);
    const other = signPayload(newWebhookSecret(), body, now).split(",")[1];
    expect(verifySignature(secret, body, `${header.split(",")[0]},${other},${header.split(",")[1]}`, { nowSeconds: now })).toBe(true);
  });

  test("secrets are random and recognisable", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(newWebhookSecret());
  });
});
