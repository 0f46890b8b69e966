/**
 * Attack (issue 18, item 9): /docs loaded an unpinned script from a CDN; whoever controls that
 * package (or the CDN) ran code in this origin's pages. Now the page loads nothing from
 * elsewhere and its Content-Security-Policy allows only its own inline script and style, by hash.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

describe("GET /docs", () => {
  test("loads no script, style or anything else from another origin", async () => {
    const reply = await t.call("GET", "/docs");
    expect(reply.status).toBe(200);
    expect(reply.text).not.toMatch(/<script[^>]+src=/i);
    expect(reply.text).not.toMatch(/https?:\/\//);
  });

  test("its CSP allows exactly its inline script and style, and connections to itself only", async () => {
    const reply = await t.call("GET", "/docs");
    const csp = reply.headers.get("content-security-policy") ?? "";
    const script = /<script>([\s\S]*?)<\/script>/.exec(reply.text)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(reply.text)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
    expect(reply.headers.get("x-frame-options")).toBe("DENY");
    expect(() => new Function(script)).not.toThrow(); // it parses
  });
});
