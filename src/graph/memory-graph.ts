import type { GraphInput, MemoryGraph } from "../domain/graph";
import type { Memory } from "../domain/memory";
import { type ExtractionMode, graphFacts } from "./extract";

/** What the client supplied, only the parts it gave. */
export function suppliedOf(input: GraphInput): GraphInput | undefined {
  const supplied: GraphInput = {};
  if (input.entities !== undefined) supplied.entities = input.entities;
  if (input.relations !== undefined) supplied.relations = input.relations;
  return supplied.entities === undefined && supplied.relations === undefined ? undefined : supplied;
}

/** The graph a memory is stored with; undefined when it has none (extraction off, nothing supplied). */
export function memoryGraph(content: string, supplied: GraphInput | undefined, mode: ExtractionMode): MemoryGraph | undefined {
  if (supplied === undefined && mode === "off") return undefined;
  const facts = graphFacts(content, supplied, mode);
  return supplied === undefined ? facts : { ...facts, supplied };
}

/** The client's own entities and relations, as it sent them, for a memory's read answer. */
export function presentSupplied(memory: Memory): GraphInput {
  const supplied = memory.graph?.supplied;
  return supplied === undefined ? {} : suppliedOf(supplied) ?? {};
}
