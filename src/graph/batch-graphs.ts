/**
 * The graphs of a batch of memories, computed a slice at a time: between slices the event loop
 * runs, so a batch of long texts (up to 1000 × 64 K characters) never holds the worker that
 * also answers /health and everyone else's requests.
 */
import type { GraphInput, MemoryGraph } from "../domain/graph";
import { type ExtractionMode, MAX_EXTRACTION_CHARS } from "./extract";
import { memoryGraph } from "./memory-graph";

/** Characters extracted between two turns of the event loop (a few milliseconds of work). */
export const EXTRACTION_SLICE_CHARS = MAX_EXTRACTION_CHARS;
/** What a memory costs besides its text (client-supplied entities and relations). */
const PER_MEMORY_CHARS = 256;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function memoryGraphs(
  items: readonly { content: string; supplied: GraphInput | undefined }[],
  mode: ExtractionMode,
): Promise<(MemoryGraph | undefined)[]> {
  const graphs: (MemoryGraph | undefined)[] = [];
  let sinceTurn = 0;
  for (const { content, supplied } of items) {
    if (sinceTurn >= EXTRACTION_SLICE_CHARS) {
      await nextTurn();
      sinceTurn = 0;
    }
    graphs.push(memoryGraph(content, supplied, mode));
    sinceTurn += PER_MEMORY_CHARS + (mode === "auto" ? Math.min(content.length, MAX_EXTRACTION_CHARS) : 0);
  }
  return graphs;
}
