/**
 * Attack (issue 18, item 9): Milvus' etcd holds its metadata without authentication; anyone who
 * reaches it can rewrite or delete every collection. The stack's Milvus must keep it on loopback
 * (its start now fails otherwise: scripts/stack/milvus.ts); this checks the running one, and
 * the parser that check relies on.
 */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { isLoopback, listenAddresses } from "../../scripts/stack/listeners";

const ETCD_PORTS = [Number(process.env.STACK_MILVUS_ETCD_PORT ?? 2379), 2380];

describe("listeners: which addresses listen on a port", () => {
  test("tells a loopback listener from a wildcard one", async () => {
    for (const [host, expectLoopback] of [["127.0.0.1", true], ["0.0.0.0", false]] as const) {
      const server = createServer();
      await new Promise<void>((done) => server.listen(0, host, done));
      const port = (server.address() as { port: number }).port;
      const addresses = listenAddresses(port);
      server.close();
      expect(addresses.length).toBeGreaterThan(0);
      expect(addresses.every(isLoopback)).toBe(expectLoopback);
    }
  });
});

const running = ETCD_PORTS.some((p) => listenAddresses(p).length > 0);

describe.skipIf(!running)("the stack's etcd (Milvus) listens on loopback only", () => {
  test.each(ETCD_PORTS)("port %d", (port) => {
    const addresses = listenAddresses(port);
    expect(addresses.filter((a) => !isLoopback(a))).toEqual([]);
  });
});
