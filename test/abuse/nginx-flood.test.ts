/**
 * Attack (issue 18, item 6): nginx had no limit_conn or limit_req, so one address could open
 * connections and send requests without bound, all of them reaching the workers. Now one
 * address gets 100 connections at once and 100 requests a second (bursts of 200); past that,
 * a 429 problem with Retry-After, without reaching a worker. Loopback is not limited.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { CLIENT_IP_HEADER, nginxAvailable, startNginx, type RunningNginx } from "../support/nginx";

let upstream: ReturnType<typeof Bun.serve>;
let nginx: RunningNginx;
let upstreamRequests = 0;

beforeAll(async () => {
  if (!nginxAvailable) return;
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      upstreamRequests++;
      if (new URL(request.url).pathname === "/slow") await Bun.sleep(1500);
      return Response.json({ ok: true });
    },
  });
  nginx = await startNginx(upstream.port!);
}, 30_000);
afterAll(async () => {
  await nginx?.stop();
  upstream?.stop(true);
});

async function burst(n: number, clientIp: string | undefined, concurrency = 16): Promise<Response[]> {
  const replies: Response[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const reply = await fetch(`${nginx.url}/v1/collections`, { headers: clientIp ? { [CLIENT_IP_HEADER]: clientIp } : {} });
        await reply.arrayBuffer();
        replies.push(reply);
      }
    }),
  );
  return replies;
}

/** Status of one request on a connection of its own (the connection stays open until the answer). */
function statusOnOwnConnection(path: string, clientIp: string): Promise<number> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port: nginx.port }, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${CLIENT_IP_HEADER}: ${clientIp}\r\nConnection: close\r\n\r\n`),
    );
    let reply = "";
    socket.on("data", (d) => (reply += d.toString()));
    socket.on("error", () => done(0));
    socket.on("close", () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
  });
}

describe.skipIf(!nginxAvailable)("nginx: per-address flood guards", () => {
  test("requests past the rate and burst are 429 problems with Retry-After, and never reach a worker", async () => {
    const before = upstreamRequests;
    const replies = await burst(500, "198.51.100.20");
    const limited = replies.filter((r) => r.status === 429);
    const passed = replies.filter((r) => r.status === 200);
    expect(limited.length).toBeGreaterThan(100);
    expect(passed.length).toBeGreaterThanOrEqual(200); // the burst
    expect(upstreamRequests - before).toBe(passed.length);
    expect(limited[0]!.headers.get("content-type")).toBe("application/problem+json");
    expect(limited[0]!.headers.get("retry-after")).toBe("1");
  });

  test("another address is not affected by the first one's flood", async () => {
    const replies = await burst(50, "198.51.100.21");
    expect(replies.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  });

  test("loopback is not limited", async () => {
    const replies = await burst(500, undefined);
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
  });

  test("more than 100 requests in flight from one address: the rest are 429 at once", async () => {
    const statuses = await Promise.all(Array.from({ length: 120 }, () => statusOnOwnConnection("/slow", "198.51.100.30")));
    const limited = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(100);
    expect(limited).toBeGreaterThanOrEqual(20);
  }, 20_000);
});
