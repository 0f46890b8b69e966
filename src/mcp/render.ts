/**
 * Text renderings of the tools' results: what a client that shows only text (and the model
 * behind it) reads. Complete enough to act on (ids, cursors, scores), plain enough to read.
 */

interface MemoryLike {
  id: string;
  content: string;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at?: string;
}

const hasKeys = (value: Record<string, unknown>) => Object.keys(value).length > 0;

const indent = (text: string) => text.replace(/\n/g, "\n   ");

/** `id … (created …)`, the content, then the metadata when there is any. */
export function renderMemory(memory: MemoryLike, prefix = "-"): string {
  const updated = memory.updated_at && memory.updated_at !== memory.created_at ? `, updated ${memory.updated_at}` : "";
  const lines = [`${prefix} id ${memory.id} (created ${memory.created_at}${updated})`, `   ${indent(memory.content)}`];
  if (hasKeys(memory.metadata)) lines.push(`   metadata: ${JSON.stringify(memory.metadata)}`);
  return lines.join("\n");
}

export function renderNextPage(nextCursor: string | null, what: string): string {
  return nextCursor === null ? `(no more ${what})` : `(more ${what}: call again with cursor "${nextCursor}")`;
}

export const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
