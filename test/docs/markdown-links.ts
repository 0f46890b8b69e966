/**
 * Relative links in markdown files, and whether each one resolves: the file (or folder) exists,
 * and a `#anchor` names a heading of the target (GitHub's slugs) or an explicit `id`/`name`.
 * Links inside fenced code blocks and code spans are not links; URLs with a scheme
 * (`https:`, `mailto:`) are not checked.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export interface MarkdownLink {
  target: string;
  line: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const INLINE_LINK = /!?\[[^\]]*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const ATX_HEADING = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/;
const HTML_ID = /<[a-z][^>]*\s(?:id|name)=["']([^"']+)["']/gi;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** The lines of a markdown text outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): Array<{ text: string; line: number }> {
  const lines: Array<{ text: string; line: number }> = [];
  let fence: string | null = null;
  markdown.split("\n").forEach((text, index) => {
    const marker = FENCE.exec(text)?.[1];
    if (fence === null && marker) fence = marker;
    else if (fence !== null && marker && marker[0] === fence[0] && marker.length >= fence.length && text.trim() === marker) fence = null;
    else if (fence === null) lines.push({ text, line: index + 1 });
  });
  return lines;
}

/** A line with its code spans blanked out (a run of N backticks closes only on N backticks). */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, "code");
}

export function extractLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = withoutCodeSpans(text);
    const definition = REFERENCE_DEFINITION.exec(prose);
    if (definition?.[1]) links.push({ target: unbracket(definition[1]), line });
    for (const match of prose.matchAll(INLINE_LINK)) links.push({ target: unbracket(match[1]!), line });
  }
  return links;
}

function unbracket(target: string): string {
  return target.startsWith("<") && target.endsWith(">") ? target.slice(1, -1) : target;
}

/** GitHub's anchor for a heading's text (github-slugger: lower case, punctuation dropped, spaces → hyphens). */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link or image shows its text
    .replace(/<[^>]+>/g, ""); // inline HTML shows nothing of its tags
  return rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

/** Every anchor a markdown text defines: its headings' slugs (repeats get -1, -2, …) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = ATX_HEADING.exec(text)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of text.matchAll(HTML_ID)) anchors.add(match[1]!);
  }
  return anchors;
}

/** One line per link of `files` (paths relative to `root`) that does not resolve. */
export function brokenLinks(root: string, files: string[]): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsAt = (path: string) => {
    let anchors = anchorCache.get(path);
    if (!anchors) anchorCache.set(path, (anchors = anchorsOf(readFileSync(path, "utf8"))));
    return anchors;
  };
  for (const file of files) {
    const source = join(root, file);
    for (const { target, line } of extractLinks(readFileSync(source, "utf8"))) {
      if (SCHEME.test(target)) continue;
      const hashAt = target.indexOf("#");
      const pathPart = hashAt === -1 ? target : target.slice(0, hashAt);
      const anchor = hashAt === -1 ? null : decodeURIComponent(target.slice(hashAt + 1));
      const resolved = pathPart === "" ? source : join(dirname(source), decodeURIComponent(pathPart));
      const where = `${file}:${line}: ${target}`;
      if (!resolved.startsWith(root) || !existsSync(resolved)) {
        problems.push(`${where}: ${relative(root, resolved)} does not exist`);
      } else if (anchor !== null) {
        if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) {
          problems.push(`${where}: an anchor into ${relative(root, resolved)}, which is not a markdown file`);
        } else if (!anchorsAt(resolved).has(anchor)) {
          problems.push(`${where}: ${relative(root, resolved) || file} has no heading #${anchor}`);
        }
      }
    }
  }
  return problems;
}
