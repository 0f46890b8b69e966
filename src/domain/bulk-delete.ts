/** Deleting many memories of a collection at once: which ones, how many per call, and what came of it. */
import type { SearchFilter } from "./search.ts";

/**
 * The memories a bulk delete picks: these ids (missing ones are skipped), or every memory a
 * filter matches (MATCH_ALL: all of them; the API asks for that explicitly).
 */
export type MemorySelector = { ids: string[] } | { filter: SearchFilter };

/** Memories one deleteMany call of a store removes at most, whatever it is asked (the API asks for fewer). */
export const MAX_DELETE_MANY = 10_000;

export interface BulkDeleteOptions {
  /** At most this many memories are deleted (or counted, in a dry run) by one call (capped at MAX_DELETE_MANY). */
  limit: number;
  /** Only find what would be deleted; change nothing. */
  dryRun?: boolean;
}

export interface BulkDeletion {
  /** The ids deleted (or that would be, in a dry run), oldest memory first; at most `limit`. */
  ids: string[];
  /** More memories matched beyond `limit`: another call deletes (finds) the next ones. */
  more: boolean;
}
