/**
 * A search thread (a Bun Worker): runs vector and keyword queries on its own read-only connection
 * to the embedded database file, so that a search never blocks the event loop and the threads
 * use every core. The main thread is the only writer; WAL lets these readers see every
 * committed write without blocking it. Vector searches go through the ANN indexes this thread
 * keeps for the collections routed to it (ann/searcher.ts).
 */
import { Database } from "bun:sqlite";
import * as sqliteVec from "sqlite-vec";
import type { Hit } from "../../domain/search.ts";
import { StatementCache } from "./database.ts";
import { AnnSearcher, type AnnStats } from "./ann/searcher.ts";
import { vectorQuery } from "./vector-queries.ts";
import { ownerOf, readHits } from "./search-threads.ts";
import type { SearchThreadReply, SearchThreadRequest } from "./search-thread-protocol.ts";

declare const self: Worker;

const NO_ANN: AnnStats = { library: "not loaded", indexed: {}, answered: { ann: 0, exact: 0 } };

let statements: StatementCache | undefined;
let searcher: AnnSearcher | undefined;
let owns: (collectionId: string) => boolean = () => true;
let unusable: string | undefined;

function open(request: Extract<SearchThreadRequest, { kind: "open" }>): void {
  try {
    const db = new Database(request.path, { readonly: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${request.busyTimeoutMs}`);
    db.run(`PRAGMA cache_size = -${request.cacheSizeKiB}`);
    db.run(`PRAGMA mmap_size = ${request.mmapSizeBytes}`);
    sqliteVec.load(db);
    statements = new StatementCache(db, 64);
    owns = (collectionId) => ownerOf(collectionId, request.owner.of) === request.owner.index;
    if (request.ann !== null) {
      searcher = new AnnSearcher(db, statements, request.dimensions, request.ann, (level, msg, fields, once) =>
        reply({ kind: "log", level, msg, fields, once }),
      );
    }
  } catch (error) {
    unusable = `the search thread could not open ${request.path}: ${(error as Error).message}`;
    reply({ kind: "unusable", message: unusable });
  }
}

function reply(message: SearchThreadReply): void {
  self.postMessage(message);
}

async function answer(request: Exclude<SearchThreadRequest, { kind: "open" | "warm" }>, on: StatementCache): Promise<Hit[]> {
  if (request.kind === "query") return readHits(on, request.query);
  if (searcher !== undefined) return searcher.search(request.collectionId, request.vector, request.k, request.filter);
  const query = vectorQuery(request.collectionId, request.vector, request.k, request.filter);
  return on.get<Hit>(query.sql).all(...query.params);
}

self.onmessage = async (event: MessageEvent<SearchThreadRequest>) => {
  const request = event.data;
  if (request.kind === "open") return open(request);
  if (statements === undefined) {
    return reply({ kind: "error", id: request.id, message: unusable ?? "the search thread has no database open" });
  }
  try {
    if (request.kind === "warm") {
      await searcher?.warm(owns);
      return reply({ kind: "warmed", id: request.id, stats: searcher?.stats() ?? NO_ANN });
    }
    reply({ kind: "hits", id: request.id, hits: await answer(request, statements) });
  } catch (error) {
    reply({ kind: "error", id: request.id, message: (error as Error).message });
  }
};
