/**
 * Attack (issue 18, item 6): a request whose header or body arrives a byte at a time held its
 * connection for as long as the client liked. Now the whole header must arrive within
 * client_header_timeout (10 s), a body may pause at most client_body_timeout (10 s) between two
 * reads, and an incomplete body never reaches a worker (nginx buffers it whole first).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { CLIENT_IP_HEADER, nginxAvailable, rawExchange, startNginx, type RunningNginx } from "../support/nginx";

let upstream: ReturnType<typeof Bun.serve>;
let nginx: RunningNginx;
const seen: string[] = [];

beforeAll(async () => {
  if (!nginxAvailable) return;
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      seen.push(new URL(request.url).pathname);
      return Response.json({ ok: true });
    },
  });
  nginx = await startNginx(upstream.port!);
}, 30_000);
afterAll(async () => {
  await nginx?.stop();
  upstream?.stop(true);
});

/** A header sent one byte every `everyMs`, never finished; resolves when the server closes the connection. */
function trickleHeader(everyMs: number, giveUpMs: number): Promise<number | null> {
  return new Promise((done) => {
    const started = Date.now();
    const socket = connect({ host: "127.0.0.1", port: nginx.port }, () => socket.write("GET /v1/collections HTTP/1.1\r\nHost: t\r\nX-Slow: "));
    const ticker = setInterval(() => socket.write("a"), everyMs);
    const finish = (after: number | null) => {
      clearInterval(ticker);
      clearTimeout(timer);
      socket.destroy();
      done(after);
    };
    const timer = setTimeout(() => finish(null), giveUpMs);
    socket.on("error", () => {});
    socket.on("close", () => finish(Date.now() - started));
  });
}

describe.skipIf(!nginxAvailable)("nginx: slow clients", () => {
  test("a header trickled a byte a second is cut off by client_header_timeout; a stalled body by client_body_timeout; neither reaches a worker", async () => {
    const [headerClosedAfter, body] = await Promise.all([
      trickleHeader(1000, 16_000),
      rawExchange(nginx.port, {
        send: `POST /v1/stalled HTTP/1.1\r\nHost: t\r\n${CLIENT_IP_HEADER}: 203.0.113.50\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
        waitMs: 16_000,
      }),
    ]);
    expect(headerClosedAfter).not.toBeNull(); // closed by nginx, though bytes kept coming
    expect(headerClosedAfter!).toBeLessThan(15_000);
    expect(body.closedAfterMs).not.toBeNull();
    expect(body.closedAfterMs!).toBeLessThan(15_000);
    expect(seen).not.toContain("/v1/stalled");
  }, 30_000);
});
