import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { AnnSettings, AnnStats } from "./ann/searcher.ts";
import type { ReadQuery } from "./search-threads.ts";

/** What a search thread needs to open its own read-only connection to the database file. */
export interface SearchThreadOpen {
  kind: "open";
  path: string;
  cacheSizeKiB: number;
  mmapSizeBytes: number;
  busyTimeoutMs: number;
  /** Vector searches through ANN indexes this thread keeps (ann/searcher.ts); null: exact scans only. */
  ann: AnnSettings | null;
  dimensions: number;
  /** This thread is `index` of `of`: it keeps the ANN indexes of the collections ownerOf() gives it. */
  owner: { index: number; of: number };
}

/** Open (load or build) the ANN indexes this thread keeps; answered when they are ready. */
export interface SearchThreadWarm {
  kind: "warm";
  id: number;
}

/** A vector search: the thread chooses its ANN index or the exact scan. */
export interface SearchThreadVectorQuery {
  kind: "vector";
  id: number;
  collectionId: string;
  vector: Float32Array;
  k: number;
  filter: SearchFilter;
}

export interface SearchThreadQuery {
  kind: "query";
  id: number;
  query: ReadQuery;
}

export type SearchThreadRequest = SearchThreadOpen | SearchThreadQuery | SearchThreadVectorQuery | SearchThreadWarm;

export type SearchThreadReply =
  | { kind: "hits"; id: number; hits: Hit[] }
  | { kind: "error"; id: number; message: string }
  | { kind: "warmed"; id: number; stats: AnnStats }
  /** A line for the process's log (`once`: logged once whichever threads send it). */
  | { kind: "log"; level: "info" | "warn"; msg: string; fields?: Record<string, unknown>; once?: boolean }
  /** The thread could not open the database: every query it is sent fails the same way. */
  | { kind: "unusable"; message: string };
