/**
 * Imports pages into a collection through the Memory API.
 *
 * Re-imports update in place: memory ids are `<page id>:<chunk>`. Before writing, the importer
 * lists the collection once (pages of 1,000) and keeps, per Notion page, the fingerprints of the
 * chunks it already holds. Then for each page: chunks whose content and metadata are unchanged
 * are not sent at all (no re-embedding), new or changed ones are upserted in batches of up to
 * 1,000, and the page's chunks with an index at or past its new chunk count are deleted, once
 * the batch holding the page is acknowledged. Batches are sized to the API's measured speed
 * (batch-size.ts): at most `batchSize`, halved when the API could not finish one in time.
 * One listing per import costs
 * ⌈memories / 1000⌉ requests, where probing ids one by one would cost at least one per page.
 * With `prune`, Notion pages that are absent from the import are deleted too.
 */
import { MemoryApiError, MemoryClient, type MemoryInput } from "../typescript/memory-client";
import { BatchSizer } from "./batch-size";
import { SOURCE, fingerprint, memoryId, pageMemories, parseMemoryId } from "./memories";
import type { NotionPage, PageProblem } from "./page";

export interface ImportOptions {
  collectionId: string;
  chunkChars: number;
  batchSize: number;
  prune?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** Told when a batch was too slow for the API and is sent again in halves. */
  onBatchShrunk?: (size: number, error: MemoryApiError) => void;
}

export interface ImportProgress {
  pagesDone: number;
  pagesTotal: number | undefined;
  chunks: number;
  /** Memories the API has acknowledged so far (added or updated). */
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

  let written = 0;
  const sizer = new BatchSizer(options.batchSize);
  let batch: MemoryInput[] = [];
  /** Pages whose chunks are in `batch`: their stale chunks go once it is written. */
  let pending: { page: NotionPage; count: number }[] = [];

  const progress = () =>
    options.onProgress?.({
      pagesDone: summary.pages,
      pagesTotal: options.pagesTotal,
      chunks: summary.chunks,
      written,
      elapsedMs: performance.now() - started,
    });

  const removeStale = async (pageId: string, keep: number) => {
    for (const index of [...(existing.get(pageId)?.keys() ?? [])].sort((a, b) => a - b)) {
      if (index < keep) continue;
      if (await client.deleteMemory(options.collectionId, memoryId(pageId, index))) summary.removed++;
    }
  };

  /** Writes memories in requests of the sizer's size; a request the API could not finish is halved. */
  const send = async (memories: MemoryInput[]) => {
    for (let at = 0; at < memories.length; ) {
      const piece = memories.slice(at, at + sizer.size);
      const sentAt = performance.now();
      try {
        // a single memory gets the client's usual retries; a larger piece is split instead
        await client.addMemories(options.collectionId, piece, piece.length > 1 ? { retryStatuses: [429] } : {});
      } catch (error) {
        const tooSlow = error instanceof MemoryApiError && (error.status === 503 || (error.status === 0 && error.code === "timeout"));
        if (!tooSlow || piece.length === 1) throw error;
        sizer.shrink(piece.length);
        options.onBatchShrunk?.(sizer.size, error);
        // upserts by id: sending again what the API may still be writing is harmless
        await Bun.sleep(Math.min((error.retryAfter ?? 1) * 1000, 30_000));
        continue;
      }
      sizer.observe(piece.length, performance.now() - sentAt);
      written += piece.length;
      at += piece.length;
    }
  };

  const flush = async () => {
    await send(batch);
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
      if (batch.length >= sizer.size) await flush();
      batch.push(memory);
    }
    pending.push({ page, count: memories.length });
    if (batch.length >= sizer.size) await flush();
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
