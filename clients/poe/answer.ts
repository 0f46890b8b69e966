/**
 * Search results → a concise Markdown answer: the best memories quoted (for a long memory, the
 * sentences that share the most words with the question), each with its source.
 */
import type { SearchHit } from "../typescript/memory-client";

const SNIPPET_CHARS = 320;
const SMALL_WORDS = new Set("the and for are was were what when where which who whom how why does did do is in on at of to a an my our your with from that this it be can i me we you".split(" "));

const words = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !SMALL_WORDS.has(w));

/** A hit → {source label, body}: a Notion chunk's first line is its breadcrumb (page › section). */
export function describeHit(hit: SearchHit): { source: string; body: string } {
  const meta = hit.metadata;
  if (meta.source === "notion" && typeof meta.page_title === "string") {
    const newline = hit.content.indexOf("\n\n");
    const breadcrumb = newline > 0 ? hit.content.slice(0, newline) : meta.page_title;
    return { source: `Notion: ${breadcrumb}`, body: newline > 0 ? hit.content.slice(newline + 2) : hit.content };
  }
  const label = [meta.title, meta.page_title, meta.source].find((v) => typeof v === "string" && v.trim() !== "");
  return { source: typeof label === "string" ? label : `memory ${hit.id}`, body: hit.content };
}

/** The run of sentences (at most ~SNIPPET_CHARS) that shares the most words with the question. */
export function snippet(body: string, question: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (flat.length <= SNIPPET_CHARS) return flat;
  const sentences = flat.split(/(?<=[.!?…。！？])\s+/u);
  const asked = new Set(words(question));
  const score = (s: string) => words(s).filter((w) => asked.has(w)).length;
  let best = 0;
  sentences.forEach((s, i) => {
    if (score(s) > score(sentences[best]!)) best = i;
  });
  let text = sentences[best]!;
  for (let next = best + 1; next < sentences.length && text.length + 1 + sentences[next]!.length <= SNIPPET_CHARS; next++) {
    text += " " + sentences[next];
  }
  if (text.length > SNIPPET_CHARS) text = text.slice(0, text.lastIndexOf(" ", SNIPPET_CHARS - 1)) + " …";
  return (best > 0 ? "… " : "") + text;
}

/** The answer's parts, streamed as one `text` event each. */
export function composeAnswer(question: string, hits: SearchHit[]): string[] {
  if (hits.length === 0) {
    return ["I found nothing relevant to that in your stored memories, so I cannot answer it from them."];
  }
  const parts = [hits.length === 1 ? "From your memories:\n\n" : `From your memories (${hits.length} most relevant):\n\n`];
  hits.forEach((hit, i) => {
    const { source, body } = describeHit(hit);
    const quote = snippet(body, question).replace(/\n/g, "\n> ");
    parts.push(`${i > 0 ? "\n\n" : ""}> ${quote}\n\n— *${source}*`);
  });
  return parts;
}
