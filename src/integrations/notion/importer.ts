/**
 * Imports pages into a collection through the Memory API.
 *
 * Re-imports update in place: memory ids are `<page id>:<chunk>`. Before writing, the importer
 * lists the collection once (pages of 1,000) and keeps, per Notion page, the fingerprints of the
 * chunks it already holds. Then for each page: chunks whose content and metadata are unchanged
 * are not sent at all (no re-embedding), new or changed ones are upserted in batches of up to
 * 1,000, and the page's chunks with an index at or past its new chunk count are deleted, once
 * the batch holding the page is acknowledged. One listing per import costs
 * ⌈memories / 1000⌉ requests, where probing ids one by one would cost at least one per page.
 * With `prune`, Notion pages that are absent from the import are deleted too.
 */
import { MemoryClient, type MemoryInput } from "../memory-client";
import { SOURCE, fingerprint, memoryId, pageMemories, parseMemoryId } from "./memories";
import type { NotionPage, PageProblem } from "./page";

export interface ImportOptions {
  collectionId: string;
  chunkChars: number;
  batchSize: number;
  prune?: boolean;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  pagesDone: number;
  pagesTotal: number | undefined;
  chunks: number;
  written: number;
  elapsedMs: number;
}

export interface ImportSummary {
  pages: number;
  chunks: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  problems: PageProblem[];
  seconds: number;
  /** Memories written (added + updated) per second of the whole import. */
  memoriesPerSecond: number;
  pagesPerSecond: number;
}

/** What the collection holds now: page id → chunk index → fingerprint. */
async function existingChunks(client: MemoryClient, collectionId: string): Promise<Map<string, Map<number, string>>> {
  const byPage = new Map<string, Map<number, string>>();
  for await (const memory of client.allMemories(collectionId)) {
    const parsed = parseMemoryId(memory.id);
    if (!parsed || memory.metadata.source !== SOURCE) continue;
    const chunks = byPage.get(parsed.pageId) ?? new Map<number, string>();
    chunks.set(parsed.chunk, fingerprint(memory.content, memory.metadata));
    byPage.set(parsed.pageId, chunks);
  }
  return byPage;
}

export async function importPages(
  client: MemoryClient,
  pages: AsyncIterable<NotionPage> | Iterable<NotionPage>,
  options: ImportOptions & { pagesTotal?: number; problems?: PageProblem[] },
): Promise<ImportSummary> {
  const started = performance.now();
  const problems: PageProblem[] = options.problems ?? [];
  const existing = await existingChunks(client, options.collectionId);
  const seen = new Set<string>();
  const summary = { pages: 0, chunks: 0, added: 0, updated: 0, unchanged: 0, removed: 0 };

  let batch: MemoryInput[] = [];
  /** Pages whose chunks are in `batch`: their stale chunks go once it is written. */
  let pending: { page: NotionPage; count: number }[] = [];

  const progress = () =>
    options.onProgress?.({
      pagesDone: summary.pages,
      pagesTotal: options.pagesTotal,
      chunks: summary.chunks,
      written: summary.added + summary.updated,
      elapsedMs: performance.now() - started,
    });

  const removeStale = async (pageId: string, keep: number) => {
    for (const index of [...(existing.get(pageId)?.keys() ?? [])].sort((a, b) => a - b)) {
      if (index < keep) continue;
      if (await client.deleteMemory(options.collectionId, memoryId(pageId, index))) summary.removed++;
    }
  };

  const flush = async () => {
    if (batch.length > 0) await client.addMemories(options.collectionId, batch);
    for (const { page, count } of pending) await removeStale(page.id, count);
    batch = [];
    pending = [];
    progress();
  };

  for await (const page of pages) {
    if (seen.has(page.id)) {
      problems.push({ where: page.path, message: `page id ${page.id} appears twice in the import; the second copy was skipped` });
      continue;
    }
    seen.add(page.id);
    let memories: MemoryInput[];
    try {
      memories = pageMemories(page, options.chunkChars);
    } catch (error) {
      problems.push({ where: page.path, message: `cannot chunk this page: ${(error as Error).message}` });
      continue;
    }
    const before = existing.get(page.id);
    summary.pages++;
    summary.chunks += memories.length;
    for (const memory of memories) {
      const old = before?.get(parseMemoryId(memory.id!)!.chunk);
      if (old === undefined) summary.added++;
      else if (old === fingerprint(memory.content, memory.metadata)) {
        summary.unchanged++;
        continue;
      } else summary.updated++;
      if (batch.length >= options.batchSize) await flush();
      batch.push(memory);
    }
    pending.push({ page, count: memories.length });
    if (batch.length >= options.batchSize) await flush();
    else if (summary.pages % 25 === 0) progress();
  }
  await flush();

  if (options.prune) {
    for (const pageId of existing.keys()) if (!seen.has(pageId)) await removeStale(pageId, 0);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    ...summary,
    problems,
    seconds,
    memoriesPerSecond: (summary.added + summary.updated) / Math.max(seconds, 1e-9),
    pagesPerSecond: summary.pages / Math.max(seconds, 1e-9),
  };
}
