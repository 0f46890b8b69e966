/**
 * A search thread (a Bun Worker): runs vector queries on its own read-only connection to the
 * embedded database file, so that a brute-force scan never blocks the event loop and the
 * threads use every core. The main thread is the only writer; WAL lets these readers see
 * every committed write without blocking it.
 */
import { Database } from "bun:sqlite";
import * as sqliteVec from "sqlite-vec";
import type { Hit } from "../../domain/search.ts";
import { StatementCache } from "./database.ts";
import type { SearchThreadReply, SearchThreadRequest } from "./search-thread-protocol.ts";

declare const self: Worker;

let statements: StatementCache | undefined;
let unusable: string | undefined;

function open(request: Extract<SearchThreadRequest, { kind: "open" }>): void {
  try {
    const db = new Database(request.path, { readonly: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${request.busyTimeoutMs}`);
    db.run(`PRAGMA cache_size = -${request.cacheSizeKiB}`);
    db.run(`PRAGMA mmap_size = ${request.mmapSizeBytes}`);
    sqliteVec.load(db);
    statements = new StatementCache(db, 64);
  } catch (error) {
    unusable = `the search thread could not open ${request.path}: ${(error as Error).message}`;
    reply({ kind: "unusable", message: unusable });
  }
}

function reply(message: SearchThreadReply): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<SearchThreadRequest>) => {
  const request = event.data;
  if (request.kind === "open") return open(request);
  if (statements === undefined) {
    return reply({ kind: "error", id: request.id, message: unusable ?? "the search thread has no database open" });
  }
  try {
    const hits = statements.get<Hit>(request.sql).all(...request.params);
    reply({ kind: "hits", id: request.id, hits });
  } catch (error) {
    reply({ kind: "error", id: request.id, message: (error as Error).message });
  }
};
