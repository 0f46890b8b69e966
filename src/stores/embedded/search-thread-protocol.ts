import type { SQLQueryBindings } from "bun:sqlite";
import type { Hit } from "../../domain/search.ts";

/** What a search thread needs to open its own read-only connection to the database file. */
export interface SearchThreadOpen {
  kind: "open";
  path: string;
  cacheSizeKiB: number;
  mmapSizeBytes: number;
  busyTimeoutMs: number;
}

export interface SearchThreadQuery {
  kind: "query";
  id: number;
  sql: string;
  params: SQLQueryBindings[];
}

export type SearchThreadRequest = SearchThreadOpen | SearchThreadQuery;

export type SearchThreadReply =
  | { kind: "hits"; id: number; hits: Hit[] }
  | { kind: "error"; id: number; message: string }
  /** The thread could not open the database: every query it is sent fails the same way. */
  | { kind: "unusable"; message: string };
