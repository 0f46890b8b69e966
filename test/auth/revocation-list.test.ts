import { describe, expect, test } from "bun:test";
import { RevocationList } from "../../src/auth/revocation-list";
import type { Logger } from "../../src/log";
import type { RevocationSnapshot, RevocationStore } from "../../src/ports/revocation-store";

/** A store whose first `hangs` reads never answer (a client stuck on a dead connection). */
function stuckStore(hangs: number) {
  let reads = 0;
  const snapshot: RevocationSnapshot = { jtis: new Map([["revoked-jti", Date.now() + 60_000]]), subs: new Map() };
  const store: RevocationStore = {
    async revokeJti() {},
    async revokeSub() {},
    version: () => (reads++ < hangs ? new Promise<string>(() => {}) : Promise.resolve("1")),
    load: async () => snapshot,
    close: async () => {},
  };
  return store;
}

function recordingLog() {
  const warnings: string[] = [];
  const log = { warn: (msg: string) => warnings.push(msg), info: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;
  return { log, warnings };
}

const token = { sub: "u", iat: 1, jti: "revoked-jti" };

describe("RevocationList with a store that never answers", () => {
  test("start gives up on the first load after the bound, warns, and a later refresh loads the list", async () => {
    const { log, warnings } = recordingLog();
    const list = new RevocationList(stuckStore(1), { refreshMs: 1000, loadTimeoutMs: 50, log });
    await list.start();
    expect(warnings).toEqual(["could not refresh the token revocation list; the last copy stays in force"]);
    expect(list.isRevoked(token)).toBe(false);
    await list.refresh();
    expect(list.isRevoked(token)).toBe(true);
    await list.close();
  });

  test("a refresh that hangs does not block the ones after it", async () => {
    const { log } = recordingLog();
    const list = new RevocationList(stuckStore(3), { refreshMs: 1000, loadTimeoutMs: 30, log });
    await list.start();
    await list.refresh();
    await list.refresh();
    expect(list.isRevoked(token)).toBe(false);
    await list.refresh();
    expect(list.isRevoked(token)).toBe(true);
    await list.close();
  });
});
