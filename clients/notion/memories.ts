/** A page → the memories it is stored as: one per chunk, ids `<page id>:<chunk>`. */
import { chunkMarkdown } from "./chunk";
import type { NotionPage } from "./page";
import type { MemoryInput } from "../typescript/memory-client";

export const SOURCE = "notion";
const RESERVED = new Set(["source", "page_title", "page_path", "page_id", "chunk", "chunks", "database"]);

export const memoryId = (pageId: string, chunk: number) => `${pageId}:${chunk}`;

/** `<32 hex>:<n>` → its parts; undefined for any other id. */
export function parseMemoryId(id: string): { pageId: string; chunk: number } | undefined {
  const m = /^([0-9a-f]{32}):(\d{1,6})$/.exec(id);
  return m ? { pageId: m[1]!, chunk: Number(m[2]) } : undefined;
}

/** Content limit of the API is 64 KiB of characters; chunks are far below it. */
export function pageMemories(page: NotionPage, maxChars: number): MemoryInput[] {
  const chunks = chunkMarkdown(page.markdown, maxChars);
  return chunks.map((chunk, index) => {
    const breadcrumb = [page.title, ...chunk.headings].join(" › ");
    const metadata: Record<string, unknown> = {
      source: SOURCE,
      page_title: page.title,
      page_path: page.path,
      page_id: page.id,
      chunk: index,
      chunks: chunks.length,
    };
    if (page.database) metadata.database = page.database;
    for (const [name, value] of Object.entries(page.properties ?? {})) {
      metadata[RESERVED.has(name) ? `property_${name}` : name] = value;
    }
    // the breadcrumb gives each chunk its context (a section's text rarely names its page)
    return { id: memoryId(page.id, index), content: `${breadcrumb}\n\n${chunk.text}`, metadata };
  });
}

/** Key-order-independent JSON, to tell an unchanged memory from an updated one. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const fingerprint = (content: string, metadata: unknown) => Bun.hash(`${content}\u0000${canonical(metadata)}`).toString(36);
