/**
 * The held-out split of the reranker's training data (scripts/train-reranker/data/squad.json.gz):
 * SQuAD v1.1 questions about four Wikipedia articles that training never saw, and the paragraphs
 * of those articles. Public, human-written and human-labelled (CC BY-SA 4.0).
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const FILE = new URL("../../scripts/train-reranker/data/squad.json.gz", import.meta.url).pathname;

interface Group {
  q: string;
  pos: number;
  neg: number[];
}

export interface HeldoutQuestion {
  question: string;
  /** Index of the paragraph that answers it. */
  passage: number;
  /** Its group's other paragraphs: judged not to contain the answer. */
  negatives: number[];
}

/**
 * Every held-out paragraph (the positives and negatives of the held-out groups: the four articles
 * only) and `count` questions spread evenly over the split (every n-th, so all four articles appear).
 */
export function heldoutQuestions(count: number): { passages: { index: number; text: string }[]; questions: HeldoutQuestion[] } {
  const data = JSON.parse(gunzipSync(readFileSync(FILE)).toString("utf8")) as { passages: string[]; heldout: Group[] };
  const indices = [...new Set(data.heldout.flatMap((g) => [g.pos, ...g.neg]))].sort((a, b) => a - b);
  const stride = Math.max(1, Math.floor(data.heldout.length / count));
  const questions = data.heldout
    .filter((_, i) => i % stride === 0)
    .slice(0, count)
    .map((g) => ({ question: g.q, passage: g.pos, negatives: g.neg }));
  return { passages: indices.map((index) => ({ index, text: data.passages[index]! })), questions };
}

/** `count` held-out groups as texts: a question, the paragraph that answers it, and 7 judged not to. */
export function heldoutGroups(count: number): { question: string; answer: string; negatives: string[] }[] {
  const data = JSON.parse(gunzipSync(readFileSync(FILE)).toString("utf8")) as { passages: string[] };
  return heldoutQuestions(count).questions.map((q) => ({
    question: q.question,
    answer: data.passages[q.passage]!,
    negatives: q.negatives.map((n) => data.passages[n]!),
  }));
}
