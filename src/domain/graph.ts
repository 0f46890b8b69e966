/** The knowledge graph of a collection: the facts a memory carries, and what graph reads answer. */

/** Entities and relations a client supplies with a memory (names as written). */
export interface GraphInput {
  entities?: { name: string; type?: string }[];
  relations?: { source: string; relation: string; target: string }[];
}

/** An entity of a memory: `name` is the normal form (the key within a collection). */
export interface FactEntity {
  name: string;
  /** The name as first written. */
  display: string;
  type: string;
}

/** A relation between two entities of the same memory, by normal-form names. */
export interface FactRelation {
  source: string;
  /** Upper-case label, e.g. LIVES_IN. */
  relation: string;
  target: string;
}

export interface GraphFacts {
  entities: FactEntity[];
  relations: FactRelation[];
}

/**
 * Co-occurrence edges join only the first this-many entities of a memory (its facts' order: the
 * client's entities, then the text's in order of mention), so one memory adds at most 120
 * edges, not the 2,016 of 64 entities: a long memory cannot make every write of its collection's
 * graph slow. Relations are not capped here (MAX_FACT_RELATIONS bounds them).
 */
export const MAX_CO_OCCURRING_ENTITIES = 16;

/** What the source of truth stores with a memory: the facts, and what the client supplied. */
export interface MemoryGraph extends GraphFacts {
  supplied?: GraphInput;
}

export interface EntityInfo {
  name: string;
  display: string;
  type: string;
  /** Memories that mention it. */
  mentions: number;
}

/** One traversed edge: RELATED (its label; `reverse` when walked target → source) or CO_OCCURS. */
export interface GraphStep {
  relation: string;
  reverse: boolean;
  /** RELATED: memories stating it; CO_OCCURS: memories mentioning both. */
  weight: number;
}

/** A walk from a seed entity: nodes[0] is the seed, steps[i] leads from nodes[i] to nodes[i + 1]. */
export interface GraphPath {
  nodes: string[];
  steps: GraphStep[];
}

export interface Neighbour {
  name: string;
  display: string;
  type: string;
  relation: string;
  /** out: entity -[relation]-> neighbour; in: the reverse; CO_OCCURS edges are "both". */
  direction: "out" | "in" | "both";
  weight: number;
}

export const GRAPH_CO_OCCURS = "CO_OCCURS";
