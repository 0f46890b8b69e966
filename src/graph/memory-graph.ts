import { invalidField } from "../http/problem";
import type { GraphInput, Memory, MemoryGraph } from "../stores/ports";
import { type ExtractionMode, graphFacts } from "./extract";
import { normaliseName, normaliseRelation } from "./normalise";

/** 422 naming the field when a supplied name or label normalises to nothing (e.g. "'s" or "..."). */
export function checkGraphInput(prefix: string, input: GraphInput): void {
  input.entities?.forEach((e, j) => {
    if (normaliseName(e.name) === "") throw invalidField(`${prefix}entities[${j}].name`, "must contain a letter or digit");
  });
  input.relations?.forEach((r, j) => {
    for (const key of ["source", "target"] as const) {
      if (normaliseName(r[key]) === "") throw invalidField(`${prefix}relations[${j}].${key}`, "must contain a letter or digit");
    }
    if (normaliseRelation(r.relation) === "") throw invalidField(`${prefix}relations[${j}].relation`, "must contain a letter or digit");
  });
}

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
