/**
 * search_type "graph": the query's entities → a bounded 1–2 hop walk of the collection's graph →
 * the memories that mention what the walk reached, scored by path weight and by semantic
 * similarity to the query. Each hit carries the entity path that led to it.
 *
 * Path weight: a seed entity weighs 1; each step multiplies by 1 when its relation label shares a
 * word stem with the query ("live" ~ LIVES_IN), else 0.5 for a stated relation and 0.35 for a
 * bare co-occurrence. An entity keeps its best path. A memory's graph score is the mean of the
 * two best weights among the entities it mentions (the memory that states a matching relation
 * between two reached entities scores highest). Final score: 0.7 × graph + 0.3 × cosine.
 *
 * A query that names no entity of the collection gets no results (not a semantic fallback: an
 * empty answer says "the graph does not know these names", which a client can act on).
 */
import type { GraphPath } from "../../domain/graph";
import { type Hit, isMatchAll, type SearchFilter } from "../../domain/search";
import type { Embedder } from "../../ports/embedder";
import type { GraphStore } from "../../ports/graph-store";
import type { MemoryStore } from "../../ports/memory-store";
import type { VectorIndex } from "../../ports/vector-index";
import { GRAPH_CO_OCCURS } from "../../domain/graph";
import { isStopword } from "../../domain/stopwords";
import { extractFromText } from "../../graph/extract";
import { normaliseName, stem } from "../../graph/normalise";
import type { Retriever } from "./retriever";

export const GRAPH_LIMITS = {
  maxCandidates: 400,
  maxNgram: 6,
  seeds: 20,
  fanout: 25,
  paths: 5000,
  reachedEntities: 200,
  mentionsPerEntity: 50,
} as const;

const MATCHED = 1;
const RELATED = 0.5;
const CO_OCCURS = 0.35;
const GRAPH_SHARE = 0.7;

export interface GraphSearchDeps {
  graph: GraphStore;
  vectors: VectorIndex;
  memories: MemoryStore;
  embedder: Embedder;
  /** Semantic candidates scored alongside (at least k). */
  semanticPool: number;
}

/** Names the query might mean: its extracted entities, its word n-grams, and the whole query. */
export function queryCandidates(query: string): string[] {
  const out = new Set<string>();
  const whole = normaliseName(query);
  if (whole !== "") out.add(whole);
  for (const e of extractFromText(query).entities) out.add(e.name);
  const words = query.split(/\s+/u).filter((w) => w.length > 0);
  for (let n = Math.min(GRAPH_LIMITS.maxNgram, words.length); n >= 1; n--) {
    for (let i = 0; i + n <= words.length; i++) {
      const gram = words.slice(i, i + n);
      const name = normaliseName(gram.join(" "));
      if (name === "" || name.split(" ").every((w) => isStopword(w) || !/[\p{L}\p{N}]/u.test(w))) continue;
      out.add(name);
      if (out.size >= GRAPH_LIMITS.maxCandidates) return [...out];
    }
  }
  return [...out];
}

const queryStems = (query: string): Set<string> =>
  new Set(
    query
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length > 1 && !isStopword(w))
      .map(stem),
  );

function stepFactor(relation: string, stems: Set<string>): number {
  if (relation === GRAPH_CO_OCCURS) return CO_OCCURS;
  const words = relation.toLowerCase().split("_").filter((w) => !isStopword(w));
  return words.some((w) => stems.has(stem(w))) ? MATCHED : RELATED;
}

/** The answer's path: entity, relation, entity, ... (a relation walked backwards is written `<-REL`). */
export function renderPath(path: GraphPath): string[] {
  const out = [path.nodes[0]!];
  path.steps.forEach((s, i) => out.push(s.reverse ? `<-${s.relation}` : s.relation, path.nodes[i + 1]!));
  return out;
}

interface Reached {
  weight: number;
  path: string[];
}

export async function graphSearch(deps: GraphSearchDeps, collectionId: string, query: string, k: number, filter: SearchFilter): Promise<Hit[]> {
  const seeds = (await deps.graph.findEntities(collectionId, queryCandidates(query)))
    .sort((a, b) => b.name.length - a.name.length || b.mentions - a.mentions)
    .slice(0, GRAPH_LIMITS.seeds);
  if (seeds.length === 0) return [];
  const [vector] = await deps.embedder.embed([query], "query");
  const [paths, semantic] = await Promise.all([
    deps.graph.expand(collectionId, seeds.map((s) => s.name), { maxHops: 2, fanout: GRAPH_LIMITS.fanout, limit: GRAPH_LIMITS.paths }),
    deps.vectors.search(collectionId, vector!, Math.max(k, deps.semanticPool), filter),
  ]);

  const stems = queryStems(query);
  const reached = new Map<string, Reached>();
  const consider = (name: string, r: Reached) => {
    const best = reached.get(name);
    // ties go to the longer path: it explains more
    if (best === undefined || r.weight > best.weight || (r.weight === best.weight && r.path.length > best.path.length)) {
      reached.set(name, r);
    }
  };
  for (const s of seeds) consider(s.name, { weight: 1, path: [s.name] });
  for (const p of paths) {
    let weight = 1;
    p.steps.forEach((s) => (weight *= stepFactor(s.relation, stems)));
    consider(p.nodes[p.nodes.length - 1]!, { weight, path: renderPath(p) });
  }
  const top = [...reached.entries()].sort((a, b) => b[1].weight - a[1].weight || (a[0] < b[0] ? -1 : 1)).slice(0, GRAPH_LIMITS.reachedEntities);

  const perMemory = new Map<string, Reached[]>();
  for (const { entity, memory_id } of await deps.graph.mentions(collectionId, top.map(([name]) => name), GRAPH_LIMITS.mentionsPerEntity)) {
    const r = reached.get(entity);
    if (r === undefined) continue;
    const list = perMemory.get(memory_id) ?? [];
    list.push(r);
    perMemory.set(memory_id, list);
  }
  if (perMemory.size === 0) return [];

  let allowed: Set<string> | null = null;
  if (!isMatchAll(filter)) {
    // the store applies the filter: only the passing ids come back, never the memories
    allowed = new Set(await deps.memories.matchingIds(collectionId, [...perMemory.keys()], filter));
  }
  const cosine = new Map(semantic.map((h) => [h.id, h.score]));
  const hits: Hit[] = [];
  for (const [id, list] of perMemory) {
    if (allowed !== null && !allowed.has(id)) continue;
    list.sort((a, b) => b.weight - a.weight || b.path.length - a.path.length);
    const graphScore = (list[0]!.weight + (list[1]?.weight ?? 0)) / 2;
    const score = GRAPH_SHARE * graphScore + (1 - GRAPH_SHARE) * Math.max(0, cosine.get(id) ?? 0);
    // the path shown: the longest among the memory's best-weighted entities
    const best = list.filter((r) => r.weight === list[0]!.weight).sort((a, b) => b.path.length - a.path.length)[0]!;
    hits.push({ id, score: Math.round(score * 1e6) / 1e6, path: best.path });
  }
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
}

/** search_type "graph" as a retriever. */
export function graphRetriever(deps: GraphSearchDeps): Retriever {
  return ({ collectionId, query, k, filter }) => graphSearch(deps, collectionId, query, k, filter);
}
