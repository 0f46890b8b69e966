/**
 * Markdown → chunks along headings and paragraphs. A heading always starts a new chunk (its
 * section is one topic); paragraphs are packed up to `maxChars`; a paragraph longer than that is
 * split between sentences, and only a single sentence longer than `maxChars` is cut, at a space.
 * Code fences and tables stay whole when they fit.
 */

export interface Chunk {
  /** The headings enclosing the chunk, outermost first. */
  headings: string[];
  text: string;
}

interface Block {
  heading?: { level: number; text: string };
  text: string;
}

function blocksOf(markdown: string): Block[] {
  const blocks: Block[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const text = current.join("\n").trim();
    if (text) blocks.push({ text });
    current = [];
  };
  for (const line of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    const fenceMark = /^\s*(```|~~~)/.exec(line)?.[1];
    if (fence) {
      current.push(line);
      if (fenceMark === fence) {
        fence = undefined;
        flush();
      }
      continue;
    }
    if (fenceMark) {
      flush();
      fence = fenceMark;
      current.push(line);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ heading: { level: heading[1]!.length, text: heading[2]! }, text: line.trim() });
      continue;
    }
    if (line.trim() === "") flush();
    else current.push(line);
  }
  flush();
  return blocks;
}

const SENTENCE_END = /(?<=[.!?…。！？])["')\]]*\s+/u;

/** Splits text longer than maxChars between sentences; a sentence longer than that at spaces. */
export function splitLong(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const pieces: string[] = [];
  let current = "";
  const push = (piece: string) => {
    if (!current) current = piece;
    else if (current.length + 1 + piece.length <= maxChars) current += " " + piece;
    else {
      pieces.push(current);
      current = piece;
    }
  };
  for (const sentence of text.split(SENTENCE_END).filter(Boolean)) {
    if (sentence.length <= maxChars) {
      push(sentence);
      continue;
    }
    // one sentence longer than a chunk: cut at the last space that fits, else hard
    let rest = sentence;
    while (rest.length > maxChars) {
      let cut = rest.lastIndexOf(" ", maxChars);
      if (cut < maxChars / 2) cut = maxChars;
      push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (rest) push(rest);
  }
  if (current) pieces.push(current);
  return pieces;
}

export function chunkMarkdown(markdown: string, maxChars: number): Chunk[] {
  const chunks: Chunk[] = [];
  const headings: { level: number; text: string }[] = [];
  let body: string[] = [];
  let length = 0;
  const flush = () => {
    if (body.length > 0) chunks.push({ headings: headings.map((h) => h.text), text: body.join("\n\n") });
    body = [];
    length = 0;
  };
  for (const block of blocksOf(markdown)) {
    if (block.heading) {
      flush();
      while (headings.length > 0 && headings[headings.length - 1]!.level >= block.heading.level) headings.pop();
      headings.push(block.heading);
      continue;
    }
    for (const piece of splitLong(block.text, maxChars)) {
      if (length > 0 && length + 2 + piece.length > maxChars) flush();
      body.push(piece);
      length += (length > 0 ? 2 : 0) + piece.length;
    }
  }
  flush();
  return chunks;
}
