/**
 * Attack (issue 18, item 6): through nginx, anyone could read /metrics (every counter of the
 * service), /ready (pool statistics, raw errors with hosts and ports) and /docs, and answers had
 * no security headers. Now those three answer internal addresses only (a 403 problem to others),
 * and every answer carries nosniff, DENY framing, no-referrer and a CSP. The repository's
 * nginx.conf, run by the stack's nginx in front of a stand-in API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLIENT_IP_HEADER, nginxAvailable, startNginx, type RunningNginx } from "../support/nginx";

let upstream: ReturnType<typeof Bun.serve>;
let nginx: RunningNginx;

beforeAll(async () => {
  if (!nginxAvailable) return;
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/docs") {
        return new Response("<!doctype html><p>docs", {
          headers: { "content-type": "text/html", "content-security-policy": "default-src 'none'; script-src 'sha256-abc'" },
        });
      }
      return Response.json({ path });
    },
  });
  nginx = await startNginx(upstream.port!);
}, 30_000);
afterAll(async () => {
  await nginx?.stop();
  upstream?.stop(true);
});

const get = (path: string, clientIp?: string) =>
  fetch(`${nginx.url}${path}`, { headers: clientIp ? { [CLIENT_IP_HEADER]: clientIp } : {} });

describe.skipIf(!nginxAvailable)("nginx: internal endpoints", () => {
  test.each(["/metrics", "/ready", "/docs"])("%s is a 403 problem to a public address", async (path) => {
    const reply = await get(path, "203.0.113.7");
    expect(reply.status).toBe(403);
    expect(reply.headers.get("content-type")).toBe("application/problem+json");
    expect(((await reply.json()) as { code: string }).code).toBe("forbidden");
  });

  test.each([
    ["/metrics", "127.0.0.1"],
    ["/ready", "10.1.2.3"],
    ["/docs", "192.168.5.6"],
    ["/metrics", "172.20.0.4"],
  ])("%s answers %s (loopback and private networks)", async (path, ip) => {
    const reply = await get(path, ip);
    expect(reply.status).toBe(200);
  });

  test("the public API stays public", async () => {
    const reply = await get("/v1/collections", "203.0.113.7");
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ path: "/v1/collections" });
  });
});

describe.skipIf(!nginxAvailable)("nginx: security headers", () => {
  test("API answers carry nosniff, DENY, no-referrer and a deny-all CSP", async () => {
    const reply = await get("/v1/collections", "203.0.113.7");
    expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
    expect(reply.headers.get("x-frame-options")).toBe("DENY");
    expect(reply.headers.get("referrer-policy")).toBe("no-referrer");
    expect(reply.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(reply.headers.get("x-request-id")).toBeTruthy();
  });

  test("/docs keeps the page's own strict CSP (one policy, not two)", async () => {
    const reply = await get("/docs", "10.0.0.1");
    expect(reply.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'sha256-abc'");
    expect(reply.headers.get("x-frame-options")).toBe("DENY");
    expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("nginx's own problems carry them too", async () => {
    const reply = await get("/metrics", "203.0.113.7");
    expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
    expect(reply.headers.get("x-frame-options")).toBe("DENY");
  });
});
