/**
 * A retrieval data set of the quality eval (bench/data/*.json.gz, made by prepare-data.ts):
 * documents become memories, each query's relevant documents are what a search should find.
 */
import { gunzipSync, strFromU8 } from "fflate";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type Split = "dev" | "test";

export interface QualityQuery {
  id: string;
  text: string;
  split: Split;
  /** Ids of the documents judged relevant (binary relevance). */
  relevant: string[];
}

export interface QualityDataset {
  name: string;
  description: string;
  documents: { id: string; text: string }[];
  queries: QualityQuery[];
}

export const DATA_DIR = join(import.meta.dir, "..", "data");
export const DATASET_NAMES = ["scifact", "climate-fever"] as const;

export function loadDataset(name: string, dir = DATA_DIR): QualityDataset {
  const raw = readFileSync(join(dir, `${name}.json.gz`));
  return JSON.parse(strFromU8(gunzipSync(new Uint8Array(raw)))) as QualityDataset;
}

/**
 * A fixed small slice for the CI floor: the first `queries` queries of a split (in id order) and
 * their relevant documents, plus the first documents in id order as distractors up to `documents`.
 */
export function sliceDataset(set: QualityDataset, split: Split, queries: number, documents: number): QualityDataset {
  const kept = set.queries.filter((q) => q.split === split).slice(0, queries);
  const ids = new Set(kept.flatMap((q) => q.relevant));
  for (const d of set.documents) {
    if (ids.size >= documents) break;
    ids.add(d.id);
  }
  return { ...set, queries: kept, documents: set.documents.filter((d) => ids.has(d.id)) };
}
