/** A loopback HTTP server that plays a webhook receiver: records what arrives, answers as told. */
export interface Received {
  headers: Headers;
  text: string;
  body: any;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** The status of the next answers (one per request, in order); then `fallback`. */
  answer(...statuses: number[]): void;
  /** The status once the queued ones are used up (default 200). */
  fallback: number;
  /** Resolves once `n` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  stop(): void;
}

export function startReceiver(path = "/hook"): WebhookReceiver {
  const queued: number[] = [];
  const received: Received[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const text = await request.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      received.push({ headers: request.headers, text, body });
      return new Response("ok", { status: queued.shift() ?? receiver.fallback });
    },
  });
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${server.port}${path}`,
    received,
    fallback: 200,
    answer: (...statuses) => void queued.push(...statuses),
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} webhook requests, got ${received.length}`);
        await Bun.sleep(10);
      }
      return received.slice(0, n);
    },
    stop: () => void server.stop(true),
  };
  return receiver;
}
